-- Kiln core schema. Runs on H2 (PostgreSQL mode) and PostgreSQL alike: no JSON operators,
-- no interval arithmetic (timestamps are computed in Java), TIMESTAMP WITH TIME ZONE only.

CREATE TABLE runs (
    id          VARCHAR(40)  PRIMARY KEY,
    owner_id    VARCHAR(40)  NOT NULL,
    model       VARCHAR(100) NOT NULL,
    mode        VARCHAR(32)  NOT NULL,
    total       INT          NOT NULL,
    request     TEXT         NOT NULL,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX runs_owner ON runs (owner_id, id);

-- One row per job holds its whole schedule: status and phase, when it next needs attention
-- (next_at), its deadline, its lease and its optimistic-lock version.
CREATE TABLE jobs (
    id              VARCHAR(40)  PRIMARY KEY,
    run_id          VARCHAR(40),
    run_index       INT,
    owner_id        VARCHAR(40)  NOT NULL,
    model           VARCHAR(100) NOT NULL,
    mode            VARCHAR(32)  NOT NULL,
    provider        VARCHAR(32),
    binding_index   INT          NOT NULL DEFAULT 0,
    account_id      VARCHAR(40),
    status          VARCHAR(16)  NOT NULL,
    phase           VARCHAR(16)  NOT NULL,
    priority        INT          NOT NULL DEFAULT 0,
    prompt          TEXT         NOT NULL,
    negative_prompt TEXT,
    params          TEXT         NOT NULL,
    inputs          TEXT         NOT NULL,
    grid_cell       TEXT,
    attempt         INT          NOT NULL DEFAULT 0,
    max_attempts    INT          NOT NULL,
    submit_state    VARCHAR(16)  NOT NULL DEFAULT 'none',
    submitted_at    TIMESTAMP WITH TIME ZONE,
    remote_id       VARCHAR(255),
    remote          TEXT,
    progress        DOUBLE PRECISION NOT NULL DEFAULT 0,
    queue_position  INT,
    error_code      VARCHAR(64),
    error_message   TEXT,
    cost            NUMERIC(18, 4) NOT NULL DEFAULT 0,
    eta_seconds     INT,
    webhook_token   VARCHAR(64)  NOT NULL,
    callback        TEXT,
    polls           INT          NOT NULL DEFAULT 0,
    next_at         TIMESTAMP WITH TIME ZONE,
    deadline_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    lease_owner     VARCHAR(64),
    lease_until     TIMESTAMP WITH TIME ZONE,
    version         INT          NOT NULL DEFAULT 0,
    deleted         BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    started_at      TIMESTAMP WITH TIME ZONE,
    finished_at     TIMESTAMP WITH TIME ZONE,
    updated_at      TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX jobs_next      ON jobs (next_at);
CREATE INDEX jobs_dispatch  ON jobs (phase, priority, id);
CREATE INDEX jobs_deadline  ON jobs (deadline_at);
CREATE INDEX jobs_run       ON jobs (run_id, run_index);
CREATE INDEX jobs_owner     ON jobs (owner_id, id);
CREATE INDEX jobs_status    ON jobs (status, id);
CREATE INDEX jobs_remote    ON jobs (remote_id);
CREATE UNIQUE INDEX jobs_webhook_token ON jobs (webhook_token);

-- Append-only: one row per status change.
CREATE TABLE job_history (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      VARCHAR(40) NOT NULL,
    at          TIMESTAMP WITH TIME ZONE NOT NULL,
    from_status VARCHAR(16),
    to_status   VARCHAR(16) NOT NULL,
    phase       VARCHAR(16) NOT NULL,
    reason      TEXT
);
CREATE INDEX job_history_job ON job_history (job_id, id);

CREATE TABLE assets (
    id           VARCHAR(40)  PRIMARY KEY,
    owner_id     VARCHAR(40)  NOT NULL,
    role         VARCHAR(16)  NOT NULL,
    job_id       VARCHAR(40),
    output_index INT,
    sha256       CHAR(64)     NOT NULL,
    mime         VARCHAR(100) NOT NULL,
    size         BIGINT       NOT NULL,
    width        INT,
    height       INT,
    frames       INT,
    fps          DOUBLE PRECISION,
    duration_ms  BIGINT,
    thumb_sha256 CHAR(64),
    thumb_mime   VARCHAR(100),
    sandbox      BOOLEAN      NOT NULL DEFAULT FALSE,
    metadata     TEXT,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE UNIQUE INDEX assets_job_output ON assets (job_id, output_index);
CREATE INDEX assets_sha   ON assets (sha256);
CREATE INDEX assets_thumb ON assets (thumb_sha256);
CREATE INDEX assets_owner ON assets (owner_id, id);

CREATE TABLE idempotency (
    owner_id     VARCHAR(40)  NOT NULL,
    idem_key     VARCHAR(255) NOT NULL,
    request_hash CHAR(64)     NOT NULL,
    status       INT          NOT NULL,
    body         TEXT         NOT NULL,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (owner_id, idem_key)
);

-- Provider accounts (credentials or endpoints) and their health; shared by every instance.
CREATE TABLE accounts (
    id              VARCHAR(40)  PRIMARY KEY,
    provider        VARCHAR(32)  NOT NULL,
    label           VARCHAR(100) NOT NULL,
    source          VARCHAR(16)  NOT NULL,
    base_url        TEXT,
    secret          TEXT,
    config          TEXT,
    sandbox         BOOLEAN      NOT NULL DEFAULT FALSE,
    state           VARCHAR(16)  NOT NULL,
    max_concurrency INT          NOT NULL,
    rate_per_minute INT          NOT NULL,
    in_flight       INT          NOT NULL DEFAULT 0,
    requests        BIGINT       NOT NULL DEFAULT 0,
    errors          BIGINT       NOT NULL DEFAULT 0,
    recent_failures INT          NOT NULL DEFAULT 0,
    failure_window_start TIMESTAMP WITH TIME ZONE,
    cooldown_until  TIMESTAMP WITH TIME ZONE,
    last_used_at    TIMESTAMP WITH TIME ZONE,
    last_check_at   TIMESTAMP WITH TIME ZONE,
    last_error      TEXT,
    version         INT          NOT NULL DEFAULT 0,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE UNIQUE INDEX accounts_label ON accounts (provider, label);

-- Outbound notifications to the webhook a client gave with its job (delivered at least once).
CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       VARCHAR(40) NOT NULL,
    url          TEXT        NOT NULL,
    event        VARCHAR(32) NOT NULL,
    payload      TEXT        NOT NULL,
    attempts     INT         NOT NULL DEFAULT 0,
    next_at      TIMESTAMP WITH TIME ZONE,
    delivered_at TIMESTAMP WITH TIME ZONE,
    last_error   TEXT,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX outbox_next ON outbox (next_at);

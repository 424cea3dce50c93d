-- Users, their credentials (sessions and API keys) and the credit ledger.

-- Usernames are stored lower-cased (they compare case-insensitively); a user made by Telegram
-- login has no password and is found by its Telegram id.
CREATE TABLE users (
    id                VARCHAR(40)  PRIMARY KEY,
    username          VARCHAR(64)  NOT NULL,
    password_hash     VARCHAR(255),
    role              VARCHAR(16)  NOT NULL,
    telegram_id       BIGINT,
    telegram_username VARCHAR(64),
    display_name      VARCHAR(255),
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE UNIQUE INDEX users_telegram ON users (telegram_id);

-- Sessions and API keys share one namespace of bearer secrets: a secret presented anywhere is
-- looked up here by its SHA-256 (the secret itself is never stored). Sessions expire; both can
-- be revoked. A session also carries its CSRF token (synchronizer token pattern).
CREATE TABLE credentials (
    id           VARCHAR(40)  PRIMARY KEY,
    kind         VARCHAR(16)  NOT NULL,
    user_id      VARCHAR(40)  NOT NULL,
    token_hash   CHAR(64)     NOT NULL,
    name         VARCHAR(100),
    hint         VARCHAR(32)  NOT NULL,
    csrf_token   VARCHAR(64),
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at   TIMESTAMP WITH TIME ZONE,
    revoked_at   TIMESTAMP WITH TIME ZONE,
    last_used_at TIMESTAMP WITH TIME ZONE
);
CREATE UNIQUE INDEX credentials_token ON credentials (token_hash);
CREATE INDEX credentials_user ON credentials (user_id, kind, id);

-- Telegram initData accepted once: a second login with the same data is a replay.
CREATE TABLE telegram_logins (
    init_hash  CHAR(64) PRIMARY KEY,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX telegram_logins_expiry ON telegram_logins (expires_at);

-- Double-entry ledger: every movement is two rows with the same movement id whose amounts sum
-- to zero. Accounts: user:<id> (what the user may spend), reserved (held for unfinished jobs),
-- spent (captured by succeeded jobs), granted (the source of every credit given).
CREATE TABLE credit_entries (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    movement   VARCHAR(40)    NOT NULL,
    kind       VARCHAR(16)    NOT NULL,
    account    VARCHAR(64)    NOT NULL,
    amount     NUMERIC(18, 4) NOT NULL,
    user_id    VARCHAR(40)    NOT NULL,
    job_id     VARCHAR(40),
    reason     TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX credit_entries_job ON credit_entries (job_id);
CREATE INDEX credit_entries_account ON credit_entries (account, id);
CREATE INDEX credit_entries_user ON credit_entries (user_id, account);

-- The balance of each user account, kept in the same transaction as its entries, so that a
-- reservation is one conditional UPDATE (balance >= cost) that concurrent submissions serialise on.
CREATE TABLE credit_balances (
    account VARCHAR(64)    PRIMARY KEY,
    balance NUMERIC(18, 4) NOT NULL
);

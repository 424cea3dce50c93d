-- The pod pool (dev.kiln.pod): the RunPod pods Kiln runs ComfyUI on, and every decision it took
-- about them with its reason (GET /v1/admin/pods).
CREATE TABLE pool_pods (
    id               VARCHAR(64)  PRIMARY KEY,
    name             VARCHAR(191) NOT NULL,
    state            VARCHAR(16)  NOT NULL,
    gpu_type         VARCHAR(100),
    cost_per_hr      DOUBLE PRECISION NOT NULL DEFAULT 0,
    account_id       VARCHAR(40),
    base_url         VARCHAR(500),
    created_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    started_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    ready_at         TIMESTAMP WITH TIME ZONE,
    last_busy_at     TIMESTAMP WITH TIME ZONE,
    state_changed_at TIMESTAMP WITH TIME ZONE NOT NULL,
    misses           INT          NOT NULL DEFAULT 0,
    running_seconds  DOUBLE PRECISION NOT NULL DEFAULT 0,
    idle_seconds     DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX pool_pods_state ON pool_pods (state);

CREATE TABLE pool_decisions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           TIMESTAMP WITH TIME ZONE NOT NULL,
    action       VARCHAR(32)   NOT NULL,
    pod_id       VARCHAR(64),
    reason       VARCHAR(2000) NOT NULL,
    queued       INT           NOT NULL,
    oldest_wait_seconds INT    NOT NULL,
    pods         INT           NOT NULL,
    spend_per_hr DOUBLE PRECISION NOT NULL
);
CREATE INDEX pool_decisions_at ON pool_decisions (at);

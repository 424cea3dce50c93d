-- Provider webhook deliveries already received (the SHA-256 of the provider's delivery id), so a
-- replayed delivery is ignored; housekeeping removes them at expires_at (KILN_RETAIN_WEBHOOK_IDS).
CREATE TABLE webhook_receipts (
    provider    VARCHAR(32) NOT NULL,
    delivery_id CHAR(64)    NOT NULL,
    job_id      VARCHAR(40) NOT NULL,
    received_at TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (provider, delivery_id)
);
CREATE INDEX webhook_receipts_expiry ON webhook_receipts (expires_at);

-- Client webhooks are delivered receiver by receiver (scheme://host:port), so one slow receiver
-- delays no one else. Rows written before this grouped by their whole URL.
ALTER TABLE outbox ADD COLUMN receiver VARCHAR(300);
UPDATE outbox SET receiver = SUBSTRING(url FROM 1 FOR 300);
ALTER TABLE outbox ALTER COLUMN receiver SET NOT NULL;
CREATE INDEX outbox_receiver ON outbox (receiver, next_at);
CREATE INDEX outbox_job ON outbox (job_id);

-- Retention finds finished jobs, old history and old idempotency records by time.
CREATE INDEX jobs_finished ON jobs (finished_at);
CREATE INDEX job_history_at ON job_history (at);
CREATE INDEX idempotency_created ON idempotency (created_at);

-- The Airtable archive's outbox (dev.kiln.archive.airtable): one row per run to archive. The row
-- says what is still to be written (record_id null: the parent record is not created yet; done
-- false: its state has changed or may change), and when to try next, so that an Airtable outage
-- never touches a generation: the writes wait here and are retried, in order, once it answers.
CREATE TABLE airtable_archive (
    run_id        VARCHAR(40)  PRIMARY KEY,
    record_id     VARCHAR(40),
    status        VARCHAR(16)  NOT NULL DEFAULT 'processing',
    done          BOOLEAN      NOT NULL DEFAULT FALSE,
    outputs_sent  INT          NOT NULL DEFAULT 0,
    uploaded      TEXT,
    output_url    TEXT,
    attempts      INT          NOT NULL DEFAULT 0,
    last_error    VARCHAR(500),
    next_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    claimed_until TIMESTAMP WITH TIME ZONE,
    created_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    synced_at     TIMESTAMP WITH TIME ZONE
);
CREATE INDEX airtable_archive_due ON airtable_archive (done, next_at);
-- New runs are found by their creation time (a bounded window, every second while the archive is on).
CREATE INDEX runs_created ON runs (created_at);

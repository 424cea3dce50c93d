-- Lanes (dev.kiln.lane): every job waits in one lane, set at submission from the configuration;
-- queued_at is when it last joined the queue (a lane's wait is the age of its oldest queued job).
ALTER TABLE jobs ADD COLUMN lane VARCHAR(32) DEFAULT 'default' NOT NULL;
ALTER TABLE jobs ADD COLUMN queued_at TIMESTAMP WITH TIME ZONE;
UPDATE jobs SET queued_at = updated_at WHERE status = 'queued';

-- Admission counts a lane's queued jobs and finds its oldest in one index range.
CREATE INDEX jobs_lane_queue ON jobs (lane, status, queued_at);
-- The dispatcher ranks each user's due jobs inside a lane (priority, then age): an index in that
-- order lets the database number them without sorting the queue first.
CREATE INDEX jobs_fair ON jobs (phase, lane, owner_id, priority DESC, id);

-- One row per lane, locked by each submission's transaction while it checks the lane's limits
-- and inserts its jobs, so two submissions cannot both pass a limit; counts the jobs admitted.
CREATE TABLE lane_admissions (
    lane     VARCHAR(32) PRIMARY KEY,
    admitted BIGINT      NOT NULL DEFAULT 0
);

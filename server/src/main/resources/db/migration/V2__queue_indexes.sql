-- The dispatcher takes the next queued jobs by priority (highest first), then age: an index in
-- exactly that order lets it read a few rows instead of sorting the whole queue on every round.
DROP INDEX jobs_dispatch;
CREATE INDEX jobs_dispatch ON jobs (phase, priority DESC, id);

-- Queued jobs whose deadline passed are found by phase, not among every finished job's deadline.
DROP INDEX jobs_deadline;
CREATE INDEX jobs_phase_deadline ON jobs (phase, deadline_at);

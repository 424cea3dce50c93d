-- Seed .base kept its Replicate API tokens in a table replicate_tokens (id, is_active,
-- request_count, error_count, last_used_at) and its admins read their statistics with SQL. Kiln's
-- provider accounts are that pool: this view shows the Replicate ones under those names, so the
-- same queries run unchanged (on H2 and PostgreSQL). An account is active while it is in
-- rotation (state 'ready'); the counters are the pool's own (requests sent, errors seen).
CREATE VIEW replicate_tokens AS
SELECT id,
       label,
       state = 'ready' AS is_active,
       requests        AS request_count,
       errors          AS error_count,
       last_used_at,
       last_error,
       sandbox,
       created_at
FROM accounts
WHERE provider = 'replicate';

-- Seed .base's generation list pages one user's generations newest first.
CREATE INDEX jobs_origin_owner ON jobs (origin, owner_id, id);

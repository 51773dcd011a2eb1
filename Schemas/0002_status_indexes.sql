-- 0002_status_indexes: `brixia status` finds the last finished job without scanning all done jobs
-- (measured on 100,000 studies: see docs/performance.md, "Store").
CREATE INDEX jobs_by_state_finished ON jobs(state, finished_at);

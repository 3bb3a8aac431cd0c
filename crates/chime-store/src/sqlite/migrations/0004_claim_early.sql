-- Claims ahead of the free slots take pending jobs not yet due, earliest
-- first (jobs_pick_early.sql): a range of run_at, whatever the priority.
CREATE INDEX jobs_early ON jobs (run_at) WHERE state = 'pending';

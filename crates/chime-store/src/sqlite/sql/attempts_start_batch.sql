-- One attempt row per claimed job: ?1 JSON array of job ids, ?2 worker, ?3 now.
INSERT INTO attempts (job_id, attempt, worker, started_at)
SELECT j.id, j.attempt, ?2, ?3
FROM json_each(?1) AS e JOIN jobs AS j ON j.id = e.value

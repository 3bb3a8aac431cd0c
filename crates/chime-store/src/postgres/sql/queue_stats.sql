-- Counts per queue and state; pending split at $1 (now) into available and scheduled.
SELECT queue,
       count(*) FILTER (WHERE state = 'pending' AND run_at <= $1) AS available,
       count(*) FILTER (WHERE state = 'pending' AND run_at > $1)  AS scheduled,
       count(*) FILTER (WHERE state = 'running')                  AS running,
       count(*) FILTER (WHERE state = 'succeeded')                AS succeeded,
       count(*) FILTER (WHERE state = 'dead')                     AS dead,
       count(*) FILTER (WHERE state = 'cancelled')                AS cancelled
FROM jobs
GROUP BY queue

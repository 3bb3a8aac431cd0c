-- Counts per queue and state; pending split at ?1 (now) into available and scheduled.
SELECT queue,
       SUM(state = 'pending' AND run_at <= ?1) AS available,
       SUM(state = 'pending' AND run_at > ?1)  AS scheduled,
       SUM(state = 'running')                  AS running,
       SUM(state = 'succeeded')                AS succeeded,
       SUM(state = 'dead')                     AS dead,
       SUM(state = 'cancelled')                AS cancelled
FROM jobs
GROUP BY queue

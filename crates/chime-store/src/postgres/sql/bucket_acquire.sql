-- Takes buckets $1 for owner $2 until $3 where free, expired or already
-- ours ($4 = now). A change of owner increments the epoch. Sorted input
-- keeps two instances from deadlocking on each other's rows.
INSERT INTO buckets (bucket, owner, epoch, expires_at)
SELECT b, $2, 1, $3 FROM unnest($1::bigint[]) AS b ORDER BY b
ON CONFLICT (bucket) DO UPDATE SET
    epoch = CASE WHEN buckets.owner IS NOT DISTINCT FROM $2 THEN buckets.epoch ELSE buckets.epoch + 1 END,
    owner = $2,
    expires_at = $3
WHERE buckets.owner IS NOT DISTINCT FROM $2 OR buckets.owner IS NULL OR buckets.expires_at <= $4
RETURNING bucket, owner, epoch, expires_at

-- Takes bucket ?1 for owner ?2 until ?3 if it is free, expired or already
-- ours (?4 = now). A change of owner increments the epoch.
INSERT INTO buckets (bucket, owner, epoch, expires_at) VALUES (?1, ?2, 1, ?3)
ON CONFLICT (bucket) DO UPDATE SET
    epoch = CASE WHEN buckets.owner IS ?2 THEN buckets.epoch ELSE buckets.epoch + 1 END,
    owner = ?2,
    expires_at = ?3
WHERE buckets.owner IS ?2 OR buckets.owner IS NULL OR buckets.expires_at <= ?4
RETURNING bucket, owner, epoch, expires_at

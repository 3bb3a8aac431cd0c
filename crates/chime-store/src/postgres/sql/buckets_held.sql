-- Leases $1 holds at instant $2, with their epochs. FOR SHARE keeps a new
-- owner from taking one of them until this fire commits (fencing).
SELECT bucket, epoch FROM buckets WHERE owner = $1 AND expires_at > $2 FOR SHARE

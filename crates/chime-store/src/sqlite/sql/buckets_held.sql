-- Leases ?1 holds at instant ?2, with their epochs.
SELECT bucket, epoch FROM buckets WHERE owner = ?1 AND expires_at > ?2

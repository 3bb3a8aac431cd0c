-- Fencing: whether ?2 holds bucket ?1 at epoch ?3 at instant ?4.
SELECT 1 FROM buckets WHERE bucket = ?1 AND owner = ?2 AND epoch = ?3 AND expires_at > ?4

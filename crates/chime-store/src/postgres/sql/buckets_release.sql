UPDATE buckets SET owner = NULL, expires_at = 0 WHERE owner = $1 AND bucket = ANY($2::bigint[])

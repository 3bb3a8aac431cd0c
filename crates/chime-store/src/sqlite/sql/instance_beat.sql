-- ?1 id, ?2 now, ?3 expiry. An instance that had expired starts afresh.
INSERT INTO instances (id, started_at, expires_at) VALUES (?1, ?2, ?3)
ON CONFLICT (id) DO UPDATE SET
    started_at = CASE WHEN instances.expires_at <= ?2 THEN ?2 ELSE instances.started_at END,
    expires_at = ?3

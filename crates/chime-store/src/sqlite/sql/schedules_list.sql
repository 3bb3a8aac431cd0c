-- ?1 namespace (NULL: all), ?2 name substring (NULL: all), ?3 after id, ?4 limit.
SELECT * FROM schedules
WHERE (?1 IS NULL OR namespace = ?1)
  AND (?2 IS NULL OR instr(lower(name), lower(?2)) > 0)
  AND (?3 IS NULL OR id > ?3)
ORDER BY id
LIMIT ?4

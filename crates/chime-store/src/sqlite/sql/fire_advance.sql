-- Compare-and-set of a schedule's next fire: ?1 id, ?2 expected, ?3 new value.
UPDATE schedules SET next_fire_at = ?3 WHERE id = ?1 AND next_fire_at = ?2

-- Compare-and-set of a schedule's next fire: ?1 id, ?2 expected next fire,
-- ?3 new next fire, ?4 expected version. A schedule edited since the firer
-- read it (version bumped) is not fired from the stale copy.
UPDATE schedules SET next_fire_at = ?3 WHERE id = ?1 AND next_fire_at = ?2 AND version = ?4

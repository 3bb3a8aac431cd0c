-- Compare-and-set of many schedules' next fires: $1 JSON array of
-- {id, expected, next, version}. Only schedules whose next fire and version
-- are still the expected ones move; returns their ids. schedules_lock.sql
-- runs first, so that concurrent firers take the rows in one order.
UPDATE schedules s
SET next_fire_at = c.next
FROM jsonb_to_recordset($1::jsonb) AS c(id text, expected bigint, next bigint, version bigint)
WHERE s.id = c.id AND s.next_fire_at = c.expected AND s.version = c.version
RETURNING s.id

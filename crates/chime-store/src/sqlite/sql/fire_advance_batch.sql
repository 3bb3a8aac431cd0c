-- Compare-and-set of many schedules' next fires: ?1 JSON array of
-- {id, expected, next, version}. Only schedules whose next fire and version
-- are still the expected ones move; returns their ids.
UPDATE schedules
SET next_fire_at = c.next
FROM (
    SELECT value ->> 'id' AS id, value ->> 'expected' AS expected,
           value ->> 'next' AS next, value ->> 'version' AS version
    FROM json_each(?1)
) AS c
WHERE schedules.id = c.id AND schedules.next_fire_at = c.expected AND schedules.version = c.version
RETURNING schedules.id

-- One schedule.
-- ARGV: {key}
-- Returns: {schedule} or {}.
return reply({schedule = schedule_doc(A.key)})

-- One schedule.
-- ARGV: {id}
-- Returns: {schedule} or {}.
return reply({schedule = schedule_doc(A.id)})

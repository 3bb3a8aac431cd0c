-- One job by id, and with `attempts` the attempts it outlived.
-- ARGV: {id, attempts: bool}
-- Returns: {job|null, attempts: {attempt: entry}}.
local j = job_doc(A.id)
local attempts = A.attempts and hgetall(key('a', A.id)) or nil
return reply({job = j or NULL, attempts = attempts or {}})

-- Cancels a pending or running job; a running job's lease is revoked, so
-- its worker's next heartbeat fails and the work stops.
-- ARGV: {id, now|null}
-- Returns: {job} or {error: "not_found"} or {error: "state", state}.
local now = now_ms()
local j = job_doc(A.id)
if not j then return reply({error = 'not_found'}) end
if j.state ~= 'pending' and j.state ~= 'running' then return reply({error = 'state', state = j.state}) end
return reply({job = cancel_job(j, now)})

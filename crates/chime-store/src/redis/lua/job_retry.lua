-- A finished job runs once more, now.
-- ARGV: {id, now|null}
-- Returns: {job} or {error: "not_found"} or {error: "state", state}.
local now = now_ms()
local j = job_doc(A.id)
if not j then return reply({error = 'not_found'}) end
if j.state ~= 'dead' and j.state ~= 'cancelled' and j.state ~= 'succeeded' then
  return reply({error = 'state', state = j.state})
end
archive_finished_attempt(j)
count(j.queue, j.state, -1)
count(j.queue, 'pending', 1)
local max_attempts = math.max(tonumber(j.max_attempts), tonumber(j.attempt) + 1)
clear_attempt(j)
j.state, j.run_at, j.max_attempts = 'pending', now, max_attempts
state_put(j)
if present(j.schedule_id) then redis.call('SADD', key('sa', j.schedule_id), A.id) end
enqueue_pending(A.id, j.queue, now, j.priority, now)
redis.call('PUBLISH', key('changed'), 'jobs')
return reply({job = job_doc(A.id)})

-- Deletes a job that is not running, with its attempts.
-- ARGV: {id}
-- Returns: {deleted: bool} or {error: "running"}.
local j = job_doc(A.id)
if not j then return reply({deleted = false}) end
if j.state == 'running' then return reply({error = 'running'}) end
if j.state == 'pending' then
  unqueue(A.id, j.queue)
  if present(j.unique_key) then
    local u = key('u', j.namespace, j.unique_key)
    if redis.call('GET', u) == A.id then redis.call('DEL', u) end
  end
end
count(j.queue, j.state, -1)
remove_job(A.id)
if present(j.schedule_id) then
  redis.call('ZREM', key('sj', j.schedule_id), A.id)
  redis.call('SREM', key('sa', j.schedule_id), A.id)
end
return reply({deleted = true})

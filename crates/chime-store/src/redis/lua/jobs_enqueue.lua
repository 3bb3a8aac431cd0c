-- Inserts new jobs; a job whose unique key an active job holds is not
-- inserted and that job's id is returned instead.
-- ARGV: {jobs: [job rows], now|null}
-- Returns: {items: [{id, duplicate}]}.
local now = now_ms()
local items = {}
local any = false
for i, j in ipairs(A.jobs) do
  if insert_job(j, now) then
    items[i] = {id = j.id, duplicate = false}
    any = true
  else
    items[i] = {id = redis.call('GET', key('u', j.namespace, j.unique_key)), duplicate = true}
  end
end
if any then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply({items = items})

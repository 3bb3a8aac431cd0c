-- Deletes finished jobs (with attempts) finished before their queue's
-- cutoff (`queues_before[queue]`, else `jobs_before`) and ledger entries
-- recorded before `occurrences_before`, at most `limit` each.
-- ARGV: {jobs_before, queues_before: {queue: ms}, occurrences_before, limit}
-- Returns: {jobs, occurrences}.
local jobs = 0
local overrides = A.queues_before or {}
for _, queue in ipairs(redis.call('SMEMBERS', key('queues'))) do
  if jobs >= A.limit then break end
  local before = overrides[queue] or A.jobs_before
  local fin = key('fin', queue)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', fin, '-inf', '(' .. int(before), 'LIMIT', 0, A.limit - jobs)) do
    local j = job_doc(id)
    if j then
      count(j.queue, j.state, -1)
      if present(j.schedule_id) then redis.call('ZREM', key('sj', j.schedule_id), id) end
    end
    remove_job(id)
    redis.call('ZREM', fin, id)
    jobs = jobs + 1
  end
end
local occurrences = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', key('orec'), '-inf', '(' .. int(A.occurrences_before), 'LIMIT', 0, A.limit)) do
  local sep = string.find(m, '|', 1, true)
  local sid, at = string.sub(m, 1, sep - 1), string.sub(m, sep + 1)
  redis.call('HDEL', key('od', sid), at)
  redis.call('ZREM', key('o', sid), at)
  redis.call('ZREM', key('orec'), m)
  occurrences = occurrences + 1
end
return reply({jobs = jobs, occurrences = occurrences})

-- Deletes finished jobs (with attempts) finished before their queue's
-- cutoff (`queues_before[queue]`, else `jobs_before`) and ledger entries
-- recorded before `occurrences_before`, at most `limit` each.
-- ARGV: {jobs_before, queues_before: {queue: ms}, occurrences_before, limit}
-- Returns: {jobs, occurrences}.
local FINISHED_STATES = {succeeded = true, dead = true, cancelled = true}
-- Entries examined per call, stale ones included, so one call stays short.
local budget = 4 * A.limit
local jobs, looked = 0, 0
local overrides = A.queues_before or {}
for _, queue in ipairs(redis.call('SMEMBERS', key('queues'))) do
  if jobs >= A.limit or looked >= budget then break end
  local before = overrides[queue] or A.jobs_before
  local fl = key('fl', queue)
  -- The finished list (lib_jobs.lua's finished_push) from its head: the
  -- ids after a mark finished at its time; the first mark not before the
  -- cutoff ends the queue's turn.
  local mark, taken, at_mark = nil, 0, false
  while not at_mark and jobs < A.limit and looked < budget do
    local page = redis.call('LRANGE', fl, taken, taken + 99)
    if #page == 0 then break end
    for _, e in ipairs(page) do
      if string.byte(e, 1) == 64 then -- '@'
        local at = tonumber(string.sub(e, 2))
        if at >= before then
          at_mark = true
          break
        end
        mark = at
      else
        local j = job_doc(e)
        if j and FINISHED_STATES[j.state] and tonumber(j.finished_at) == mark then
          count(j.queue, j.state, -1)
          if present(j.schedule_id) then redis.call('ZREM', key('sj', j.schedule_id), e) end
          remove_job(e)
          jobs = jobs + 1
        end
      end
      taken, looked = taken + 1, looked + 1
      if jobs >= A.limit or looked >= budget then break end
    end
  end
  if taken > 0 then
    redis.call('LTRIM', fl, taken, -1)
    -- Stopped inside a mark's ids: the rest keep their time.
    if not at_mark and mark and redis.call('EXISTS', fl) == 1 then
      redis.call('LPUSH', fl, '@' .. int(mark))
    end
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

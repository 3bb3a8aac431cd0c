-- Claims up to `limit` jobs due by `due_by` from `queues` (empty: every
-- queue), highest priority first, then earliest run_at; paused queues are
-- skipped. Each claimed job runs under a new lease and gets an attempt.
-- ARGV: {queues: [name], due_by|null, limit, worker, token, lease_ms, now|null}
-- Returns: {items: [job fields]} in claim order.
local now = now_ms()
local due_by = present(A.due_by) and tonumber(A.due_by) or now
local expires = now + A.lease_ms
local queues = A.queues
if #queues == 0 then queues = redis.call('SMEMBERS', key('queues')) end
local candidates = {}
for _, q in ipairs(queues) do
  if redis.call('SISMEMBER', key('paused'), q) == 0 then
    -- Jobs now due move from the delayed set to the ready set, once each.
    local ready = key('q', q, 'r')
    local due = redis.call('ZRANGEBYSCORE', key('q', q, 'd'), '-inf', due_by)
    for _, id in ipairs(due) do
      local p = redis.call('HMGET', key('j', id), 'priority', 'run_at')
      if p[1] then redis.call('ZADD', ready, ready_score(p[1], p[2]), id) end
    end
    if #due > 0 then redis.call('ZREMRANGEBYSCORE', key('q', q, 'd'), '-inf', due_by) end
    local rows = redis.call('ZRANGE', ready, 0, A.limit - 1, 'WITHSCORES')
    for i = 1, #rows, 2 do candidates[#candidates + 1] = {rows[i], tonumber(rows[i + 1]), q} end
  end
end
table.sort(candidates, function(x, y) return x[2] < y[2] end)
local items = {}
for i = 1, math.min(#candidates, A.limit) do
  local id, q = candidates[i][1], candidates[i][3]
  redis.call('ZREM', key('q', q, 'r'), id)
  local k = key('j', id)
  local attempt = redis.call('HINCRBY', k, 'attempt', 1)
  hwrite(k, {state = 'running', worker = A.worker, lease_token = A.token, lease_expires_at = expires})
  redis.call('ZADD', key('running'), expires, id)
  count(q, 'pending', -1)
  count(q, 'running', 1)
  redis.call('HSET', key('a', id), attempt, cjson.encode({worker = A.worker, started_at = now}))
  items[#items + 1] = job_doc(id)
end
return reply({items = items})

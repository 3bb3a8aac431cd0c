-- Claims up to `limit` jobs due by `due_by` from `queues` (empty: every
-- queue), highest priority first, then earliest run_at; paused queues are
-- skipped. Each claimed job runs under a new lease and gets an attempt,
-- whose start the job carries until it finishes.
-- ARGV: {queues: [name], due_by|null, limit, worker, token, lease_ms, now|null}
-- Returns: {items: [job fields]} in claim order.
local now = now_ms()
local due_by = present(A.due_by) and tonumber(A.due_by) or now
-- As text once: the reply would otherwise format them for every job.
local now_s, expires_s = now_text(now), int(now + A.lease_ms)
local queues = A.queues
if #queues == 0 then queues = redis.call('SMEMBERS', key('queues')) end
local candidates = {}
for _, q in ipairs(queues) do
  if redis.call('SISMEMBER', key('paused'), q) == 0 then
    -- Jobs now due move from the delayed set to the ready set, once each.
    local ready = key('q', q, 'r')
    local due = redis.call('ZRANGEBYSCORE', key('q', q, 'd'), '-inf', due_by)
    for _, id in ipairs(due) do
      local p = redis.call('HMGET', key('j', id), 'run_at', 'priority')
      if p[1] then redis.call('ZADD', ready, ready_score(p[2] or JOB_DEFAULTS.priority, p[1]), id) end
    end
    if #due > 0 then redis.call('ZREMRANGEBYSCORE', key('q', q, 'd'), '-inf', due_by) end
    local rows = redis.call('ZRANGE', ready, 0, A.limit - 1, 'WITHSCORES')
    for i = 1, #rows, 2 do candidates[#candidates + 1] = {rows[i], tonumber(rows[i + 1]), q} end
  end
end
table.sort(candidates, function(x, y) return x[2] < y[2] end)
-- A queue's claimed jobs are a prefix of its ready set: removed by rank.
local taken = {}
local items = {}
for i = 1, math.min(#candidates, A.limit) do
  local id, q = candidates[i][1], candidates[i][3]
  taken[q] = (taken[q] or 0) + 1
  -- Read without filling defaults: the reply stays small and the Rust
  -- side fills them.
  local j = hgetall(key('j', id))
  if j then
    j.id = id
    local attempt = tostring(tonumber(j.attempt or JOB_DEFAULTS.attempt) + 1)
    redis.call('HSET', key('j', id), 'state', 'running', 'worker', A.worker, 'lease_token', A.token,
      'lease_expires_at', expires_s, 'attempt', attempt, 'started_at', now_s)
    j.state, j.worker, j.lease_token, j.lease_expires_at, j.attempt, j.started_at =
      'running', A.worker, A.token, expires_s, attempt, now_s
    defer('ZADD', key('running'), expires_s, id)
    count(q, 'running', 1)
    items[#items + 1] = j
  end
  count(q, 'pending', -1)
end
for q, n in pairs(taken) do redis.call('ZREMRANGEBYRANK', key('q', q, 'r'), 0, n - 1) end
return reply({items = items})

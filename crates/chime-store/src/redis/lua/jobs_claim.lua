-- Claims up to `limit` jobs due by `due_by` from `queues` (empty: every
-- queue), highest priority first, then earliest run_at; paused queues are
-- skipped. With `due_after`, only jobs not yet due (run_at after it),
-- earliest first, taken straight from the delayed set. Each claimed job
-- runs under a new lease and gets an attempt, whose start the job carries
-- until it finishes.
-- ARGV: {queues: [name], due_by|null, due_after|null, limit, worker, token,
--   lease_ms, now|null}
-- Returns: an array: the claim's time and the leases' expiry (ms, as text),
--   then per job in claim order its id, its new attempt number and its hash
--   as HGETALL read it before the claim, as one JSON array of strings (one
--   reply element instead of ~16: cheaper for Redis to send and for the
--   client to parse). The claim's own fields, known to the caller, are not
--   sent again.
local now = now_ms()
local due_by = present(A.due_by) and tonumber(A.due_by) or now
-- As text once: the reply would otherwise format them for every job.
local now_s, expires_s = now_text(now), int(now + A.lease_ms)
local queues = A.queues
if #queues == 0 then queues = redis.call('SMEMBERS', key('queues')) end
-- Scores are read only to merge several queues: Redis formats each score
-- it sends, and Lua would hold it as a string.
local step = #queues > 1 and 2 or 1
local early = present(A.due_after)
-- Each queue's first `limit` claimable jobs, in claim order.
local lists = {}
for _, q in ipairs(queues) do
  if redis.call('SISMEMBER', key('paused'), q) == 0 then
    local rows
    if early then
      local delayed, after = key('q', q, 'd'), '(' .. int(A.due_after)
      if step == 2 then
        rows = redis.call('ZRANGEBYSCORE', delayed, after, due_by, 'WITHSCORES', 'LIMIT', 0, A.limit)
      else
        rows = redis.call('ZRANGEBYSCORE', delayed, after, due_by, 'LIMIT', 0, A.limit)
      end
    else
      -- Jobs now due move from the delayed set to the ready set, once each.
      local ready = key('q', q, 'r')
      local due = redis.call('ZRANGEBYSCORE', key('q', q, 'd'), '-inf', due_by)
      for _, id in ipairs(due) do
        local p = redis.call('HMGET', key('j', id), 'run_at', 'priority')
        if p[1] then redis.call('ZADD', ready, ready_score(p[2] or JOB_DEFAULTS.priority, p[1]), id) end
      end
      if #due > 0 then redis.call('ZREMRANGEBYSCORE', key('q', q, 'd'), '-inf', due_by) end
      if step == 2 then
        rows = redis.call('ZRANGE', ready, 0, A.limit - 1, 'WITHSCORES')
      else
        rows = redis.call('ZRANGE', ready, 0, A.limit - 1)
      end
    end
    if #rows > 0 then lists[#lists + 1] = {q = q, rows = rows, at = 1, taken = 0, claimed = 0} end
  end
end
-- The lists merged by score: no table per job, and with one queue (the
-- usual claim) no comparison at all.
local function next_list()
  local best
  for _, l in ipairs(lists) do
    if l.at <= #l.rows and (not best or tonumber(l.rows[l.at + 1]) < tonumber(best.rows[best.at + 1])) then
      best = l
    end
  end
  return best
end
local out, n = {now_s, expires_s}, 2
-- The leases' index entries, written in one command at the end.
local leased, m = {}, 0
local worker, token = A.worker, A.token
local function claim(l, id)
  l.taken = l.taken + 1
  local k = key('j', id)
  local flat = redis.call('HGETALL', k)
  if #flat == 0 then return end
  local attempt = JOB_DEFAULTS.attempt
  for f = 1, #flat, 2 do
    if flat[f] == 'attempt' then
      attempt = flat[f + 1]
      break
    end
  end
  attempt = tostring(tonumber(attempt) + 1)
  redis.call('HSET', k, 'state', 'running', 'worker', worker, 'lease_token', token,
    'lease_expires_at', expires_s, 'attempt', attempt, 'started_at', now_s)
  leased[m + 1], leased[m + 2], m = expires_s, id, m + 2
  l.claimed = l.claimed + 1
  out[n + 1], out[n + 2], out[n + 3], n = id, attempt, cjson.encode(flat), n + 3
end
if #lists == 1 then
  -- One queue with jobs (the usual claim): its rows in order, no merge.
  -- The rows hold scores too when several queues were asked.
  local l = lists[1]
  for r = 1, math.min(#l.rows, A.limit * step), step do claim(l, l.rows[r]) end
else
  for _ = 1, A.limit do
    local l = next_list()
    if not l then break end
    local id = l.rows[l.at]
    l.at = l.at + step
    claim(l, id)
  end
end
for i = 1, m, CHUNK do redis.call('ZADD', RUNNING, unpack(leased, i, math.min(m, i + CHUNK - 1))) end
for _, l in ipairs(lists) do
  -- Counted once per queue: a job listed but gone (deleted meanwhile) was
  -- still counted pending.
  count(l.q, 'pending', -l.taken)
  count(l.q, 'running', l.claimed)
  if l.taken > 0 then
    if early then
      -- Consecutive in the delayed set, from the first one's rank.
      local delayed = key('q', l.q, 'd')
      local first = redis.call('ZRANK', delayed, l.rows[1])
      redis.call('ZREMRANGEBYRANK', delayed, first, first + l.taken - 1)
    else
      -- A queue's claimed jobs are a prefix of its ready set: removed by rank.
      redis.call('ZREMRANGEBYRANK', key('q', l.q, 'r'), 0, l.taken - 1)
    end
  end
end
return reply_array(out)

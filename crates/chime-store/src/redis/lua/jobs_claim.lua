-- Claims up to `limit` jobs due by `due_by` from `queues` (empty: every
-- queue), highest priority first, then earliest run_at; paused queues are
-- skipped. With `due_after`, only jobs not yet due (run_at after it),
-- earliest first, taken straight from the delayed set. The claimed jobs
-- run under one lease, named by `token` (lib_jobs.lua), and each gets an
-- attempt.
-- ARGV: {queues: [name], due_by|null, due_after|null, limit, worker, token,
--   lease_ms, now|null}
-- Returns: an array: the claim's time and the lease's expiry (ms, as text),
--   then per job in claim order its id, its spec (jr) and its new state
--   (jt): "running,attempt,token,run_at,priority,max_attempts,,,," and its
--   four texts (wire.rs's claimed reads them).
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
      if #due > 0 then
        local states = hmget(JT, due)
        local moved, m = {}, 0
        for d, id in ipairs(due) do
          local run_at, priority = string.match(states[d] or '', '^pending,%d+,[^,]*,(%d+),(-?%d+),')
          if run_at then moved[m + 1], moved[m + 2], m = ready_score(priority, run_at), id, m + 2 end
        end
        for c = 1, m, CHUNK do redis.call('ZADD', ready, unpack(moved, c, math.min(m, c + CHUNK - 1))) end
        redis.call('ZREMRANGEBYSCORE', key('q', q, 'd'), '-inf', due_by)
      end
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
-- The jobs to claim in claim order, and the list each came from: their
-- specs and states are then read in one command each.
local picked, from = {}, {}
local function pick(l, id)
  l.taken = l.taken + 1
  picked[#picked + 1], from[#picked + 1] = id, l
end
if #lists == 1 then
  -- One queue with jobs (the usual claim): its rows in order, no merge.
  -- The rows hold scores too when several queues were asked.
  local l = lists[1]
  for r = 1, math.min(#l.rows, A.limit * step), step do pick(l, l.rows[r]) end
else
  for _ = 1, A.limit do
    local l = next_list()
    if not l then break end
    local id = l.rows[l.at]
    l.at = l.at + step
    pick(l, id)
  end
end
local out, n = {now_s, expires_s}, 2
if #picked > 0 then
  local specs, states = hmget(JR, picked), hmget(JT, picked)
  local token = A.token
  local head = ',' .. token .. ','
  -- The new states, as HSET's field and value pairs, and the ids leased.
  local written, w, ids = {}, 0, {}
  for k = 1, #picked do
    local id, spec = picked[k], specs[k]
    local st = states[k]
    local attempt, _, at = state_cut(st, 'pending,')
    if attempt and spec then
      local running = 'running,' .. next_attempt(attempt) .. head .. sub(st, at)
      written[w + 1], written[w + 2], w = id, running, w + 2
      ids[#ids + 1] = id
      from[k].claimed = from[k].claimed + 1
      out[n + 1], out[n + 2], out[n + 3], n = id, spec, running, n + 3
    end
  end
  if w > 0 then
    hset_pairs(JT, written, w)
    lease_put(token, expires_s, now_s, #ids, A.worker, table.concat(ids, ','))
  end
end
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

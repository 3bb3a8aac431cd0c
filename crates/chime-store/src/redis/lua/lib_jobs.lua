-- Jobs, shared by every chime script after lib.lua.
--
-- A job is two strings, each a field of a hash every job shares, so a
-- claim or a completion reads and writes a whole batch in one command
-- each (docs/decisions.md, "Fifteenth pass"):
--   jr[id]: its spec, fixed at insert: a JSON array of field and value
--     strings (fields at JOB_DEFAULTS left out), as the Rust side
--     (wire.rs's job_args) writes it with created_at appended here.
--   jt[id]: its state, "state,attempt,lease,run_at,priority,max_attempts,
--     started_at,finished_at,outcome," then four texts: last_error,
--     worker, attempt_error, output, each '-' for none or "<bytes>:<text>".
--     max_attempts '' is the spec's; the priority is the spec's too, kept
--     here because a claim that moves delayed jobs to the ready set reads
--     it, and a spec is JSON. A waiting job has no lease, start, finish,
--     outcome, worker, attempt error or output.
-- A running job's lease is its claim's: `lease` names an entry of jl,
-- "expires,started,open,worker" (open: its jobs not yet finished), with
-- the entry's job ids in jli and the entry itself in the running index,
-- scored by its expiry. A heartbeat moves its job to an entry of its own,
-- "<token>/<id>". The token a completion must show is the lease's name
-- up to '/'.

-- Their keys, set by `begin` for the call's prefix.
local JR, JT, JL, JLI

-- Claim order within a queue: priority (highest first), then run_at, as one
-- score exact in a double: 2001 priorities x 2^42 ms (139 years from 2020).
-- A new job's score comes from Rust as text (wire.rs's ready_score, the
-- same formula): Redis formats a Lua number passed to a command with
-- snprintf, about 1 µs each, so scores travel as text where they can.
local EPOCH = 1577836800000
local function ready_score(priority, run_at)
  local offset = math.max(0, tonumber(run_at) - EPOCH)
  return (1000 - tonumber(priority)) * 4398046511104 + offset
end

-- Spec fields at these values are not stored (the Redis store's
-- JOB_DEFAULTS in fields.rs holds the same table); readers fill them back.
local JOB_DEFAULTS = {
  attempt = '0', namespace = 'default', payload = 'null', priority = '0',
  max_attempts = '3', timeout_ms = '60000', backoff_initial_ms = '1000', backoff_max_ms = '300000',
}

-- HMGET of many fields, in chunks (unpack's limit).
local function hmget(k, fields)
  local n = #fields
  if n <= CHUNK then return redis.call('HMGET', k, unpack(fields)) end
  local out = {}
  for i = 1, n, CHUNK do
    local part = redis.call('HMGET', k, unpack(fields, i, math.min(n, i + CHUNK - 1)))
    for j = 1, #part do out[i + j - 1] = part[j] end
  end
  return out
end

-- HSET of field, value pairs `args` (`n` strings), in chunks.
local function hset_pairs(k, args, n)
  for i = 1, n, CHUNK do redis.call('HSET', k, unpack(args, i, math.min(n, i + CHUNK - 1))) end
end

---------------------------------------------------------------- state texts

-- string.find and string.sub as locals, for the hot paths; set by `begin`
-- (a library's top level has no string library).
local find, sub

local function T(v)
  if v == nil or v == NULL or v == false then return '-' end
  v = tostring(v)
  return #v .. ':' .. v
end

-- `n` texts packed by T (the four at the end of a state), from `at`.
local function texts(s, at, n)
  local out = {}
  for k = 1, n do
    if sub(s, at, at) == '-' then
      at = at + 1
    else
      local colon = find(s, ':', at, true)
      if not colon then return nil end
      local len = tonumber(sub(s, at, colon - 1))
      if not len then return nil end
      out[k] = sub(s, colon + 1, colon + len)
      at = colon + len + 1
    end
  end
  return out
end

-- A state's first fields, cut by plain finds rather than string.match,
-- whose pattern engine tests each character apart, and compared in place:
-- every string cut out is made (and interned) first, about 500
-- instructions each. When `s` is in state `st` (given as 'pending,' or
-- 'running,'): its attempt, where its lease starts and where its run_at
-- starts (the lease ends two before it).
local function state_cut(s, st)
  if not s or find(s, st, 1, true) ~= 1 then return nil end
  local n = #st
  local c1 = find(s, ',', n + 1, true)
  local c2 = c1 and find(s, ',', c1 + 1, true)
  if not c2 then return nil end
  return sub(s, n + 1, c1 - 1), c1 + 1, c2 + 1
end

-- The name of the lease `s` (cut by state_cut) names when it is `token`
-- or the job's own lease under it (`token/id`), else nil.
local function lease_named(s, from, at, token, id)
  local len = at - 1 - from
  if len == #token then
    if find(s, token, from, true) == from then return token end
    return nil
  end
  local own = token .. '/' .. id
  if len == #own and sub(s, from, at - 2) == own then return own end
  return nil
end

-- The attempt after `attempt` (a number's text): a Lua number becomes
-- text through sprintf, about 2,000 instructions, so the texts are kept.
-- The library's table outlives calls; a few hundred attempts at most.
local NEXT_ATTEMPT = {}
local function next_attempt(attempt)
  local n = NEXT_ATTEMPT[attempt]
  if not n then
    n = tostring(tonumber(attempt) + 1)
    if #attempt <= 3 then NEXT_ATTEMPT[attempt] = n end
  end
  return n
end

local STATE = '^(%a+),(%d+),([^,]*),(%d*),(-?%d*),(%d*),(%d*),(%d*),([^,]*),()'

-- A state text read into `j` (a table of the job's fields).
local function state_read(s, j)
  local st, a, lease, run_at, priority, max, started, finished, outcome, at = string.match(s, STATE)
  if not st then return false end
  local t = texts(s, at, 4)
  if not t then return false end
  j.state, j.attempt, j.run_at, j.priority = st, a, run_at, priority
  if lease ~= '' then j.lease = lease end
  if max ~= '' then j.max_attempts = max end
  if started ~= '' then j.started_at = started end
  if finished ~= '' then j.finished_at = finished end
  if outcome ~= '' then j.outcome = outcome end
  j.last_error, j.worker, j.attempt_error, j.output = t[1], t[2], t[3], t[4]
  return true
end

local function opt_text(v)
  if present(v) then return text(v) end
  return ''
end

-- jobs_complete.lua writes a finished state by hand in the same layout:
-- building `j` per job there cost more than the rest of the completion.
local function state_text(j)
  return j.state .. ',' .. text(j.attempt) .. ',' .. (j.lease or '') .. ',' .. text(j.run_at) .. ','
    .. text(j.priority) .. ',' .. opt_text(j.max_attempts) .. ',' .. opt_text(j.started_at) .. ','
    .. opt_text(j.finished_at) .. ',' .. (some(j.outcome) or '') .. ',' .. T(some(j.last_error))
    .. T(some(j.worker)) .. T(some(j.attempt_error)) .. T(some(j.output))
end

local function state_put(j)
  redis.call('HSET', JT, j.id, state_text(j))
end

---------------------------------------------------------------- leases

-- Leases read by this script, by name: {expires (number), e (its text),
-- started, open, worker, tw (T of the worker), done (jobs this script
-- finished under it)}, or false for none. Written back once, at reply.
local LEASES = {}

local function lease_get(name)
  local l = LEASES[name]
  if l == nil then
    l = false
    local raw = redis.call('HGET', JL, name)
    if raw then
      local e, started, open, worker = string.match(raw, '^(%d+),(%d*),(%d+),(.*)$')
      if e then
        l = {expires = tonumber(e), e = e, started = started, open = tonumber(open), worker = worker,
             tw = T(worker), done = 0}
      end
    end
    LEASES[name] = l
  end
  return l
end

local function token_of(name)
  return string.match(name, '^[^/]*')
end

-- One of the lease's jobs is done with it (finished, requeued or moved
-- to a lease of its own).
local function lease_release(name)
  local l = lease_get(name)
  if l then l.done = l.done + 1 end
end

local function lease_text(expires, started, open, worker)
  return expires .. ',' .. started .. ',' .. open .. ',' .. worker
end

-- A new lease `name` over the job ids `ids` (joined by ','), until
-- `expires` (text).
local function lease_put(name, expires, started, open, worker, ids)
  redis.call('HSET', JL, name, lease_text(expires, started, open, worker))
  redis.call('HSET', JLI, name, ids)
  redis.call('ZADD', RUNNING, expires, name)
end

local function lease_drop(name)
  redis.call('HDEL', JL, name)
  redis.call('HDEL', JLI, name)
  redis.call('ZREM', RUNNING, name)
end

-- Finished jobs by queue, oldest first, for retention: a list per queue
-- (`fl`) of "@<finished_at ms>" marks, each followed by the ids of the
-- jobs finished then. A push is one more list entry, where a sorted set
-- made a skiplist node and a dict entry per job. An id whose job was
-- since deleted, retried or finished again no longer matches its mark's
-- time; prune.lua drops such entries as it reaches them.
-- By queue: the deferred RPUSH whose first argument is its mark.
local FINISHED = {}

local function finished_push(queue, id, now)
  local op = FINISHED[queue]
  if not op or op.at ~= now then
    op = {cmd = 'RPUSH', key = key('fl', queue), args = {'@' .. now_text(now)}, n = 1, at = now}
    FINISHED[queue] = op
    DEFERRED_ORDER[#DEFERRED_ORDER + 1] = op
  end
  local n = op.n + 1
  op.args[n] = id
  op.n = n
end

before_flush = function()
  FINISHED = {}
  for name, l in pairs(LEASES) do
    if l and l.done > 0 then
      if l.open - l.done <= 0 then
        lease_drop(name)
      else
        redis.call('HSET', JL, name, lease_text(l.e, l.started, l.open - l.done, l.worker))
      end
    end
  end
  LEASES = {}
end

---------------------------------------------------------------- records

-- A job's fields as the Rust side reads them (fields.rs), from its spec
-- and state; nil when there is no such job.
local function job_doc(id)
  local spec = redis.call('HGET', JR, id)
  local st = redis.call('HGET', JT, id)
  if not spec or not st then return nil end
  local flat = cjson.decode(spec)
  local j = {}
  for i = 1, #flat, 2 do j[flat[i]] = flat[i + 1] end
  for f, v in pairs(JOB_DEFAULTS) do
    if j[f] == nil then j[f] = v end
  end
  if not state_read(st, j) then return nil end
  j.id = id
  if j.state == 'running' and j.lease then
    local l = lease_get(j.lease)
    j.lease_token = token_of(j.lease)
    if l then
      j.lease_expires_at, j.started_at, j.worker = l.e, l.started, l.worker
    else
      j.lease_expires_at = '0'
    end
  end
  return j
end

-- The running job `j` holds its lease `token` and the lease is live.
local function holds(j, token, now)
  return j.state == 'running' and j.lease_token == token and tonumber(j.lease_expires_at) > now
end

-- A pending job due by now goes straight to its queue's ready set; a later
-- one waits in the delayed set until a claim ahead of or at its run_at
-- moves it (reading its priority then). Deferred: a script that reads a
-- queue after making or moving jobs (fire's replace) flushes first.
local function enqueue_pending(id, queue, run_at, priority, now, score)
  defer('SADD', key('queues'), queue)
  if tonumber(run_at) <= now then
    defer('ZADD', key('q', queue, 'r'), score or ready_score(priority, run_at), id)
  else
    defer('ZADD', key('q', queue, 'd'), text(run_at), id)
  end
end

local function unqueue(id, queue)
  redis.call('ZREM', key('q', queue, 'd'), id)
  redis.call('ZREM', key('q', queue, 'r'), id)
end

-- A new job as the Redis store's job_args sends it, from ARGV[i] on:
-- id, namespace, queue, schedule_id, unique_key ('' for none), run_at,
-- its ready-set score, its spec without the closing ']', its state. Read
-- in place, with no table per job: a fire or an enqueue batch makes
-- thousands. Returns where the next argument starts.
local function job_end(i)
  return i + 9
end

-- Inserts the new pending job at ARGV[i]; false and the holder's id if
-- its unique key is held by an active job.
local CREATED, CREATED_AT = nil, nil
local function insert_job(i, now)
  local id, queue, schedule_id, unique_key = ARGV[i], ARGV[i + 2], opt(ARGV[i + 3]), opt(ARGV[i + 4])
  if unique_key then
    local u = key('u', ARGV[i + 1], unique_key)
    if redis.call('SET', u, id, 'NX') == false then return false, redis.call('GET', u) end
  end
  if CREATED_AT ~= now then CREATED, CREATED_AT = ',"created_at","' .. now_text(now) .. '"]', now end
  -- Deferred, one command per batch: fire's replace, the one reader of
  -- jobs it just made, flushes first.
  defer('HSET', JR, id, ARGV[i + 7] .. CREATED)
  defer('HSET', JT, id, ARGV[i + 8])
  defer('ZADD', key('jobs'), '0', id)
  if schedule_id then
    redis.call('ZADD', key('sj', schedule_id), '0', id)
    redis.call('SADD', key('sa', schedule_id), id)
  end
  enqueue_pending(id, queue, ARGV[i + 5], nil, now, ARGV[i + 6])
  count(queue, 'pending', 1)
  return true
end

-- A job's record and attempts go (it is not running).
local function remove_job(id)
  redis.call('HDEL', JR, id)
  redis.call('HDEL', JT, id)
  redis.call('DEL', key('a', id))
  redis.call('ZREM', key('jobs'), id)
end

---------------------------------------------------------------- attempts

-- A job's latest attempt lives in its state: its attempt number and, once
-- it ends a finished job, `outcome`, `attempt_error` and `output` beside
-- the job's finished_at (while it runs, its start and worker are its
-- lease's). An attempt the job outlives (a retry) moves to the job's
-- attempts hash a:<id>, so a job that runs once writes no second key.

-- An attempts hash entry, put together as text: cjson formats numbers
-- slowly. The times are the digits the job's state holds.
local function attempt_entry(worker, started_at, finished_at, ended)
  return table.concat({
    '{"worker":', cjson.encode(worker or ''), ',"started_at":', started_at,
    ',"finished_at":', finished_at, ',"outcome":', cjson.encode(ended.outcome),
    ',"error":', present(ended.error) and cjson.encode(ended.error) or 'null',
    ',"output":', present(ended.output) and cjson.encode(ended.output) or 'null', '}',
  })
end

-- Writes the attempt `j` (a running job's fields) ended as `ended`
-- ({outcome, error, output}) to the attempts hash.
local function archive_attempt(j, now, ended)
  if not present(j.started_at) then return end
  redis.call('HSET', key('a', j.id), j.attempt, attempt_entry(j.worker, j.started_at, now_text(now), ended))
end

-- Clears what a state holds of its latest attempt.
local function clear_attempt(j)
  j.lease, j.started_at, j.worker, j.finished_at = nil, nil, nil, nil
  j.outcome, j.attempt_error, j.output = nil, nil, nil
end

-- A finished job's attempt moves to its attempts hash before the job runs
-- again (`j`: the job's fields; the caller writes its state).
local function archive_finished_attempt(j)
  if not present(j.outcome) then return end
  redis.call('HSET', key('a', j.id), j.attempt, attempt_entry(j.worker, j.started_at, j.finished_at,
    {outcome = j.outcome, error = j.attempt_error, output = j.output}))
end

---------------------------------------------------------------- state changes

-- What finishing a job changes beyond its state: the finished index, its
-- unique key and its schedule's active set.
local function finished_elsewhere(id, queue, now, namespace, unique_key, schedule_id)
  finished_push(queue, id, now)
  if unique_key then
    local u = key('u', namespace, unique_key)
    if redis.call('GET', u) == id then redis.call('DEL', u) end
  end
  if schedule_id then redis.call('SREM', key('sa', schedule_id), id) end
end

-- Moves the job `j` (its fields) out of pending/running into a finished
-- state. `err`: its last error (none clears an earlier attempt's);
-- `ended`: how the attempt it ran ended, if it ran.
local function finish_job(j, state, now, err, ended)
  local running = j.state == 'running'
  if running then
    if j.lease then lease_release(j.lease) end
  else
    unqueue(j.id, j.queue)
  end
  count(j.queue, j.state, -1)
  count(j.queue, state, 1)
  local started, worker = j.started_at, j.worker
  clear_attempt(j)
  j.state, j.finished_at, j.last_error = state, now_text(now), some(err)
  if running and ended then
    j.started_at, j.worker = started, worker
    j.outcome, j.attempt_error, j.output = ended.outcome, some(ended.error), some(ended.output)
  end
  state_put(j)
  finished_elsewhere(j.id, j.queue, now, j.namespace, some(j.unique_key), some(j.schedule_id))
end

-- A running job goes back to pending (retry at `run_at`); the attempt it
-- ran, ended as `ended`, moves to its attempts hash.
local function requeue_job(j, run_at, err, now, ended)
  archive_attempt(j, now, ended)
  if j.lease then lease_release(j.lease) end
  count(j.queue, j.state, -1)
  count(j.queue, 'pending', 1)
  clear_attempt(j)
  j.state, j.run_at, j.last_error = 'pending', run_at, some(err)
  state_put(j)
  enqueue_pending(j.id, j.queue, run_at, j.priority, now)
end

local function cancel_job(j, now)
  local ended = j.state == 'running' and {outcome = 'cancelled', error = 'cancelled'} or nil
  finish_job(j, 'cancelled', now, nil, ended)
  return job_doc(j.id)
end

---------------------------------------------------------------- calls

-- Every function of the library starts here (scripts.rs adds the call).
local function begin(keys, args)
  if lib_begin(keys, args) then JR, JT, JL, JLI = key('jr'), key('jt'), key('jl'), key('jli') end
  LEASES, FINISHED, find, sub = {}, {}, string.find, string.sub
end

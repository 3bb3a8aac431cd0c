-- The start of chime's function library (scripts.rs builds it): this
-- file, then lib_jobs.lua, then each script's file as the body of a
-- function of its own. Redis runs the library's top level once, when it
-- loads it; a call runs only its function, which starts with `begin`.
-- keys[1] of a call: the key prefix, which carries chime's hash tag (e.g.
--   "{chime}:"). Every key a script touches is built from it, so all of a
--   deployment's keys live in one slot and the scripts run unchanged on
--   Redis Cluster.
-- args[1]: the call's parameters as one JSON object (`A`). The hot scripts
--   (enqueue, claim, completion, fire, the scheduler's reload) take their
--   per-item data as plain strings after it (`ARGV`) and reply with arrays
--   (wire.rs is the Rust side): cjson builds a table per object and per
--   field, which was their largest cost after the writes.
-- Returns: one JSON document (cjson), or an array where a script's header
--   says so.
--
-- Library-level locals outlive a call: whatever one call fills in (the
-- deferred writes, the caches below) is emptied by `begin` before the
-- next, so nothing of a failed call reaches another.

local P, A, ARGV
-- cjson's null; set by `begin` (a library's top level has no cjson).
local NULL

-- Built by concatenation: a key is made for nearly every command, and a
-- table per call (table.concat) cost about 5 % of a script's instructions.
local function key(a, b, c, d)
  if b == nil then return P .. a end
  if c == nil then return P .. a .. ':' .. b end
  if d == nil then return P .. a .. ':' .. b .. ':' .. c end
  return P .. a .. ':' .. b .. ':' .. c .. ':' .. d
end

-- The running index: most job scripts write it, several times each. Set
-- by `begin` for the call's prefix.
local RUNNING

local function present(v)
  return v ~= nil and v ~= NULL
end

-- A value or nil, cjson's null read as none.
local function some(v)
  if present(v) then return v end
  return nil
end

-- Integers (milliseconds, counts) as text without an exponent.
local function int(n)
  return string.format('%.0f', n)
end

-- Numbers read from records stay text; a number made here is formatted.
local function text(n)
  if type(n) == 'string' then return n end
  return int(n)
end

-- The text of a script's `now`, formatted once: every job and occurrence
-- a script writes carries it.
local NOW, NOW_TEXT
local function now_text(now)
  if now ~= NOW then NOW, NOW_TEXT = now, int(now) end
  return NOW_TEXT
end

-- The store's clock (DESIGN §2.6): Redis TIME unless the caller pinned one.
local function now_ms()
  if present(A.now) then return tonumber(A.now) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function hgetall(k)
  local flat = redis.call('HGETALL', k)
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- Writes the present fields of `t`; `nulls` lists fields to remove.
local function hwrite(k, t, nulls)
  local args = {}
  for f, v in pairs(t) do
    if present(v) then
      args[#args + 1] = f
      if type(v) == 'number' then args[#args + 1] = int(v) else args[#args + 1] = tostring(v) end
    end
  end
  if #args > 0 then redis.call('HSET', k, unpack(args)) end
  if nulls and #nulls > 0 then redis.call('HDEL', k, unpack(nulls)) end
end

-- Writes made once per job to a shared key (state counters, the running
-- and finished indexes) are gathered and sent once per key when the script
-- replies: a batch of 500 completions then costs a few commands for them,
-- not 2,000. Only keys no script reads back after writing are deferred.
local COUNTS, COUNT_KEYS = {}, {}
local DEFERRED, DEFERRED_ORDER = {}, {}

-- By command, then key: a key joined to its command would be one more
-- string made (and interned) per call. One or two arguments a call (a
-- member, or a score and a member): fixed parameters and a kept length
-- cost less than varargs and `#` per argument.
local function defer(cmd, k, a, b)
  local by_key = DEFERRED[cmd]
  if not by_key then
    by_key = {}
    DEFERRED[cmd] = by_key
  end
  local op = by_key[k]
  if not op then
    op = {cmd = cmd, key = k, args = {}, n = 0}
    by_key[k] = op
    DEFERRED_ORDER[#DEFERRED_ORDER + 1] = op
  end
  local args, n = op.args, op.n + 1
  args[n] = a
  if b ~= nil then
    n = n + 1
    args[n] = b
  end
  op.n = n
end

-- By queue name: its counter key is made once per script, not per call.
local function count(queue, state, by)
  local c = COUNTS[queue]
  if not c then
    c = {}
    COUNTS[queue] = c
    COUNT_KEYS[#COUNT_KEYS + 1] = queue
  end
  c[state] = (c[state] or 0) + by
end

-- Sent in chunks: unpack has a limit on its arguments. An even size keeps
-- ZADD's score/member pairs together.
local CHUNK = 1000
-- Set by lib_jobs.lua: writes back the leases a script changed.
local before_flush = nil

local function flush()
  if before_flush then before_flush() end
  for _, queue in ipairs(COUNT_KEYS) do
    local k = key('qc', queue)
    for state, by in pairs(COUNTS[queue]) do
      if by ~= 0 then redis.call('HINCRBY', k, state, by) end
    end
  end
  COUNTS, COUNT_KEYS = {}, {}
  for _, op in ipairs(DEFERRED_ORDER) do
    local args, n = op.args, op.n
    for i = 1, n, CHUNK do
      redis.call(op.cmd, op.key, unpack(args, i, math.min(n, i + CHUNK - 1)))
    end
  end
  DEFERRED, DEFERRED_ORDER = {}, {}
end

-- Every script ends here. cjson writes an empty table as {}; results wrap
-- lists in objects and the Rust side reads {} as an empty list.
local function reply(t)
  flush()
  return cjson.encode(t)
end

-- The hot scripts end here instead: Redis sends a table of strings and
-- integers as an array, with no JSON to write or parse.
local function reply_array(t)
  flush()
  return t
end

-- A plain-string argument; '' stands for none.
local function opt(v)
  if v == '' then return nil end
  return v
end

---------------------------------------------------------------- schedules

-- A schedule is a field of the `sr` hash: its key (schedule_key.rs: its id
-- in 22 characters) and its record (schedule_record.rs), "ref,paused,
-- version,next_fire_ms,created_ms,updated_ms,bucket,name_bytes|" then its
-- name and its payload's JSON. The rest of its spec, its template, is in
-- `tpl` under `ref`, shared by every schedule with the same one. Read back as {r, p, v, n, c, u, b, tail}, the numbers as the
-- text they are stored as, `tail` from name_bytes on.
local function schedule_parse(raw)
  local r, p, v, n, c, u, b, tail = string.match(raw, '^([^,]*),(%d),(%d+),(%d*),(%d+),(%d+),(%d+),(.*)$')
  if not r then return nil end
  return {r = r, p = p, v = v, n = n ~= '' and n or nil, c = c, u = u, b = b, tail = tail}
end

local function schedule_get(k)
  local raw = redis.call('HGET', key('sr'), k)
  if not raw then return nil end
  return schedule_parse(raw)
end

local function schedule_put(k, s)
  redis.call('HSET', key('sr'), k, s.r .. ',' .. text(s.p) .. ',' .. text(s.v) .. ','
    .. (present(s.n) and text(s.n) or '') .. ',' .. text(s.c) .. ',' .. text(s.u) .. ','
    .. text(s.b) .. ',' .. s.tail)
end

local function schedule_tail(name, payload)
  return #name .. '|' .. name .. payload
end

-- A fire moves a schedule's next fire (`s` from schedule_get).
local function schedule_advance(k, s, next_fire_at)
  s.n = present(next_fire_at) and next_fire_at or nil
  schedule_put(k, s)
end

-- A template is kept as "count|text", count the records that use it: a
-- count of its own would cost a second hash entry per template, as much
-- as a schedule whose template no other shares saves in all else.
local function template_entry(r)
  local held = redis.call('HGET', key('tpl'), r)
  if not held then return nil end
  local count, text = string.match(held, '^(%d+)|(.*)$')
  return tonumber(count), text
end

-- The reference under which `text` is kept, counted once more: `ref` (the
-- Rust side's hash of it) unless another template holds that, then the
-- first free or matching `ref.1`, `ref.2`, ...
local function template_acquire(ref, text)
  local r, k = ref, 0
  while true do
    local count, held = template_entry(r)
    if not count or held == text then
      redis.call('HSET', key('tpl'), r, ((count or 0) + 1) .. '|' .. text)
      return r
    end
    k = k + 1
    r = ref .. '.' .. k
  end
end

local function template_release(r)
  local count, text = template_entry(r)
  if not count then return end
  if count <= 1 then
    redis.call('HDEL', key('tpl'), r)
  else
    redis.call('HSET', key('tpl'), r, (count - 1) .. '|' .. text)
  end
end

-- Templates' text, read once per call, by reference.
local TEMPLATES = {}
local function template(r)
  local t = TEMPLATES[r]
  if t == nil then
    local _, text = template_entry(r)
    t = text or ''
    TEMPLATES[r] = t
  end
  return t
end

-- Numbers a script compares as the text both sides hold; records from
-- before numbers travelled as text hold them as numbers.
local function same(a, b)
  return a == b or tonumber(a) == tonumber(b)
end

-- Schedules are listed from one small sorted set per bucket (keys at score
-- 0, so in key order, which is id order): kept small, Redis stores each compactly, where one set of every
-- schedule would cost about 100 bytes an entry. `sl` holds the buckets in use.
local function listing_add(k, bucket)
  redis.call('ZADD', key('sl', bucket), '0', k)
  redis.call('SADD', key('sl'), bucket)
end

local function listing_remove(k, bucket)
  redis.call('ZREM', key('sl', bucket), k)
end

-- A schedule as the Rust side reads it (schedule_record.rs's from_doc).
local function schedule_doc(k)
  local raw = redis.call('HGET', key('sr'), k)
  if not raw then return nil end
  return {key = k, record = raw, template = template(string.match(raw, '^([^,]*),'))}
end

-- Keeps the bucket's due index in step with the schedule's next fire.
local function index_due(k, bucket, paused, next_fire_at)
  local due = key('due', bucket)
  if present(next_fire_at) and tonumber(paused) ~= 1 then
    redis.call('ZADD', due, next_fire_at, k)
  else
    redis.call('ZREM', due, k)
  end
end

---------------------------------------------------------------- ledger

-- Writes an occurrence's ledger entry `doc` under its fire key (the
-- schedule and the instant `at`); false when the key was taken.
local function record_doc(schedule_id, at, doc, now)
  if redis.call('HSETNX', key('od', schedule_id), at, doc) == 0 then
    return false
  end
  redis.call('ZADD', key('o', schedule_id), at, at)
  defer('ZADD', key('orec'), now_text(now), schedule_id .. '|' .. at)
  return true
end

-- Records one occurrence given as its fields (`o`, a ledger row); fires
-- instead send each entry already written up to its recording time.
local function record(schedule_id, o, now)
  local at = text(o.scheduled_for)
  return record_doc(schedule_id, at, cjson.encode({
    schedule_id = schedule_id, scheduled_for = at, outcome = o.outcome,
    reason = o.reason, job_id = o.job_id, count = o.count,
    last_scheduled_for = o.last_scheduled_for, recorded_at = now_text(now),
  }), now)
end

---------------------------------------------------------------- calls

-- Readies this file's state for a call with `keys` and `args`; lib_jobs.lua's
-- `begin` calls it. True when the prefix is not the last call's (keys
-- made from it must then be made again).
local function lib_begin(keys, args)
  A, ARGV, NULL = cjson.decode(args[1]), args, cjson.null
  COUNTS, COUNT_KEYS, DEFERRED, DEFERRED_ORDER, TEMPLATES = {}, {}, {}, {}, {}
  if keys[1] == P then return false end
  P = keys[1]
  RUNNING = key('running')
  return true
end

-- Prepended by floor.mjs to the probe's claim and completion scripts: the
-- key prefix, Redis's clock, and the reads both variants share.
local P = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local now_s = string.format('%.0f', now)

-- The ready set's first `limit` jobs, taken off it: their ids, specs and
-- states (nil when none is ready).
local function take_ready(limit)
  local ids = redis.call('ZRANGE', P .. 'ready', 0, limit - 1)
  if #ids == 0 then return nil end
  redis.call('ZREMRANGEBYRANK', P .. 'ready', 0, #ids - 1)
  return ids, redis.call('HMGET', P .. 'spec', unpack(ids)), redis.call('HMGET', P .. 'st', unpack(ids))
end

-- A completion batch's ids (ARGV: n, then n triples whose first is the
-- id) and their current states.
local function completed()
  local n = tonumber(ARGV[1])
  local ids = {}
  for j = 1, n do ids[j] = ARGV[3 * j - 1] end
  return n, ids, redis.call('HMGET', P .. 'st', unpack(ids))
end

-- Writes the finished jobs' states (`st`: id, state pairs) and moves `n`
-- from running to succeeded.
local function finished(st, n)
  redis.call('HSET', P .. 'st', unpack(st))
  redis.call('HINCRBY', P .. 'qc', 'running', -n)
  redis.call('HINCRBY', P .. 'qc', 'succeeded', n)
end

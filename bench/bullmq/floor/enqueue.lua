-- The floor probe's enqueue (see floor.mjs): not chime's layout, a lean
-- one to learn what Redis costs when Lua touches no job one by one.
-- KEYS[1]: a key prefix. ARGV: n, then n (ready score, id) pairs, n (id,
--   spec) pairs and n (id, 'p') pairs, each passed to Redis as it came.
-- Returns: n.
local P = KEYS[1]
local n = tonumber(ARGV[1])
local i = 2
for c = 0, n - 1, 500 do
  local m = math.min(500, n - c)
  redis.call('ZADD', P .. 'ready', unpack(ARGV, i + 2 * c, i + 2 * (c + m) - 1))
end
i = 2 + 2 * n
for c = 0, n - 1, 500 do
  local m = math.min(500, n - c)
  redis.call('HSET', P .. 'spec', unpack(ARGV, i + 2 * c, i + 2 * (c + m) - 1))
end
i = 2 + 4 * n
for c = 0, n - 1, 500 do
  local m = math.min(500, n - c)
  redis.call('HSET', P .. 'st', unpack(ARGV, i + 2 * c, i + 2 * (c + m) - 1))
end
redis.call('HINCRBY', P .. 'qc', 'pending', n)
return n

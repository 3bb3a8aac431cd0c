-- The floor probe's enqueue (see floor.mjs): not chime's layout, a lean
-- one to learn what Redis costs when Lua touches no job one by one.
-- KEYS[1]: a key prefix. ARGV: n, then n (ready score, id) pairs, n (id,
--   spec) pairs and n (id, 'p') pairs, each passed to Redis as it came.
-- Returns: n.
local P = KEYS[1]
local n = tonumber(ARGV[1])
-- The n pairs from ARGV[from] on, in chunks that unpack can pass.
local function send(cmd, k, from)
  for c = 0, n - 1, 500 do
    local m = math.min(500, n - c)
    redis.call(cmd, P .. k, unpack(ARGV, from + 2 * c, from + 2 * (c + m) - 1))
  end
end
send('ZADD', 'ready', 2)
send('HSET', 'spec', 2 + 2 * n)
send('HSET', 'st', 2 + 4 * n)
redis.call('HINCRBY', P .. 'qc', 'pending', n)
return n

-- The floor probe's completion: a job finishes only while its state is
-- the exact lease string the claim wrote and the lease has not expired.
-- KEYS[1]: a key prefix. ARGV: n, then n (id, lease string, expiry) triples.
-- Returns: per completion 1 (applied) or 0 (the lease was lost).
local P = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local now_s = string.format('%.0f', now)
local n = tonumber(ARGV[1])
local ids = {}
for j = 1, n do ids[j] = ARGV[3 * j - 1] end
local cur = redis.call('HMGET', P .. 'st', unpack(ids))
local fin, st, gone, out = {}, {}, {}, {}
local f, s, g = 0, 0, 0
local val = 's|' .. now_s
for j = 1, n do
  local b = 3 * j - 1
  if cur[j] == ARGV[b + 1] and tonumber(ARGV[b + 2]) > now then
    local id = ids[j]
    st[s + 1], st[s + 2], s = id, val, s + 2
    fin[f + 1], fin[f + 2], f = now_s, id, f + 2
    gone[g + 1], g = id, g + 1
    out[j] = 1
  else
    out[j] = 0
  end
end
if g > 0 then
  redis.call('HSET', P .. 'st', unpack(st))
  redis.call('ZADD', P .. 'fin', unpack(fin))
  redis.call('ZREM', P .. 'running', unpack(gone))
  redis.call('HINCRBY', P .. 'qc', 'running', -g)
  redis.call('HINCRBY', P .. 'qc', 'succeeded', g)
end
return out

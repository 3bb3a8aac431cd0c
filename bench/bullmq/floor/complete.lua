-- The floor probe's completion: a job finishes only while its state is
-- the exact lease string the claim wrote and the lease has not expired.
-- KEYS[1]: a key prefix. ARGV: n, then n (id, lease string, expiry) triples.
-- Returns: per completion 1 (applied) or 0 (the lease was lost).
local n, ids, cur = completed()
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
  finished(st, g)
  redis.call('ZADD', P .. 'fin', unpack(fin))
  redis.call('ZREM', P .. 'running', unpack(gone))
end
return out

-- The floor probe's completion under one lease per claim (see
-- claim_one_lease.lua): a job finishes only while its state is the exact
-- string its claim wrote and its claim's lease, read once per token, has
-- not expired. The finished index is a list (pruned from its head).
-- KEYS[1]: a key prefix. ARGV: n, then n (id, token, attempt) triples.
-- Returns: per completion 1 (applied) or 0 (the lease was lost).
local n, ids, cur = completed()
-- Per token: {expires, started, open, finished here, expires as text}.
local leases = {}
local function lease(token)
  local l = leases[token]
  if l == nil then
    local raw = redis.call('HGET', P .. 'lease', token)
    l = false
    if raw then
      local e, s, open = string.match(raw, '^(%d+)|(%d+)|(%d+)$')
      l = {tonumber(e), s, tonumber(open), 0, e}
    end
    leases[token] = l
  end
  return l
end
local st, fin, out = {}, {}, {}
local s, f = 0, 0
local val = 's|' .. now_s
for j = 1, n do
  local b = 3 * j - 1
  local token = ARGV[b + 1]
  local l = lease(token)
  if l and l[1] > now and cur[j] == 'r|' .. token .. '|' .. ARGV[b + 2] then
    st[s + 1], st[s + 2], s = ids[j], val, s + 2
    f = f + 1
    fin[f] = ids[j]
    l[4] = l[4] + 1
    out[j] = 1
  else
    out[j] = 0
  end
end
if f > 0 then
  finished(st, f)
  redis.call('RPUSH', P .. 'fin', unpack(fin))
  for token, l in pairs(leases) do
    if l and l[4] > 0 then
      if l[3] - l[4] <= 0 then
        redis.call('HDEL', P .. 'lease', token)
        redis.call('ZREM', P .. 'running', token)
      else
        redis.call('HSET', P .. 'lease', token, l[5] .. '|' .. l[2] .. '|' .. (l[3] - l[4]))
      end
    end
  end
end
return out

-- The floor probe's claim with one lease per claim (floor.mjs
-- --one-lease): each job's state is 'r|token|attempt'; the claim's
-- expiry and start are written once, in the shared lease hash under the
-- token ('expires|started|open', open the jobs not yet finished), and the
-- running index holds the token instead of every job.
-- KEYS[1]: a key prefix. ARGV: limit, token, lease_ms.
-- Returns: as claim.lua.
local token = ARGV[2]
local ids, specs, sts = take_ready(tonumber(ARGV[1]))
if not ids then return {} end
local n = #ids
local exp_s = string.format('%.0f', now + tonumber(ARGV[3]))
local head = 'r|' .. token .. '|'
local stargs, out = {}, {now_s, exp_s}
local k, o = 0, 2
for j = 1, n do
  local id, s = ids[j], sts[j]
  if s then
    local a = tonumber(string.match(s, '(%d+)$') or '0') + 1
    stargs[k + 1], stargs[k + 2], k = id, head .. a, k + 2
    out[o + 1], out[o + 2], out[o + 3], o = id, a, specs[j], o + 3
  end
end
if k == 0 then return out end
redis.call('HSET', P .. 'st', unpack(stargs))
redis.call('HSET', P .. 'lease', token, exp_s .. '|' .. now_s .. '|' .. (k / 2))
redis.call('ZADD', P .. 'running', exp_s, token)
redis.call('HINCRBY', P .. 'qc', 'pending', -n)
redis.call('HINCRBY', P .. 'qc', 'running', k / 2)
return out

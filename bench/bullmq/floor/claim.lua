-- The floor probe's claim: up to `limit` jobs from the ready set, each
-- leased in the shared state hash as one string 'r|token|expires|started|attempt'.
-- KEYS[1]: a key prefix. ARGV: limit, token, lease_ms.
-- Returns: the claim's time and the lease's expiry (ms, text), then per job
--   its id, attempt and spec.
local ids, specs, sts = take_ready(tonumber(ARGV[1]))
if not ids then return {} end
local n = #ids
local exp_s = string.format('%.0f', now + tonumber(ARGV[3]))
local head = 'r|' .. ARGV[2] .. '|' .. exp_s .. '|' .. now_s .. '|'
local stargs, run, out = {}, {}, {now_s, exp_s}
local k, r, o = 0, 0, 2
for j = 1, n do
  local id, s = ids[j], sts[j]
  if s then
    -- The attempt is the number that ends the state ('p' holds none yet).
    local a = tonumber(string.match(s, '(%d+)$') or '0') + 1
    stargs[k + 1], stargs[k + 2], k = id, head .. a, k + 2
    run[r + 1], run[r + 2], r = exp_s, id, r + 2
    out[o + 1], out[o + 2], out[o + 3], o = id, a, specs[j], o + 3
  end
end
if k == 0 then return out end
redis.call('HSET', P .. 'st', unpack(stargs))
redis.call('ZADD', P .. 'running', unpack(run))
redis.call('HINCRBY', P .. 'qc', 'pending', -n)
redis.call('HINCRBY', P .. 'qc', 'running', r / 2)
return out

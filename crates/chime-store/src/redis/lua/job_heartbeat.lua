-- Extends a lease that is still current.
-- ARGV: {id, token, extend_ms, now|null}
-- Returns: {expires_at} or {lost: true}.
local now = now_ms()
local k = key('j', A.id)
local j = redis.call('HMGET', k, 'state', 'lease_token', 'lease_expires_at')
if j[1] ~= 'running' or j[2] ~= A.token or tonumber(j[3]) <= now then
  return reply({lost = true})
end
local expires = now + A.extend_ms
redis.call('HSET', k, 'lease_expires_at', int(expires))
redis.call('ZADD', RUNNING, expires, A.id)
return reply({expires_at = expires})

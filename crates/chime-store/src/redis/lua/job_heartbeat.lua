-- Extends a lease that is still current. The job moves to a lease of its
-- own first, so that it neither keeps the rest of its claim alive nor
-- dies with it.
-- ARGV: {id, token, extend_ms, now|null}
-- Returns: {expires_at} or {lost: true}.
local now = now_ms()
local st = redis.call('HGET', JT, A.id)
local attempt, lease, rest = string.match(st or '', '^running,(%d+),([^,]*),(.*)$')
local l = lease and token_of(lease) == A.token and lease_get(lease)
if not l or l.expires <= now then return reply({lost = true}) end
local expires = int(now + A.extend_ms)
local own = A.token .. '/' .. A.id
if lease ~= own then
  lease_release(lease)
  redis.call('HSET', JT, A.id, 'running,' .. attempt .. ',' .. own .. ',' .. rest)
end
lease_put(own, expires, l.started, 1, l.worker, A.id)
return reply({expires_at = tonumber(expires)})

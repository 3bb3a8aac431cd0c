-- Registers or renews instance `id`, forgets expired ones, lists the live.
-- ARGV: {id, ttl_ms, now|null}
-- Returns: {items: [{id, started_at, expires_at}]} sorted by id.
local now = now_ms()
local exp, started = key('inst'), key('inst', 'started')
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', exp, '-inf', now)) do
  redis.call('ZREM', exp, gone)
  redis.call('HDEL', started, gone)
end
redis.call('ZADD', exp, now + A.ttl_ms, A.id)
redis.call('HSETNX', started, A.id, int(now))
local items = {}
local rows = redis.call('ZRANGE', exp, 0, -1, 'WITHSCORES')
for i = 1, #rows, 2 do
  items[#items + 1] = {id = rows[i], started_at = tonumber(redis.call('HGET', started, rows[i])), expires_at = tonumber(rows[i + 1])}
end
table.sort(items, function(x, y) return x.id < y.id end)
return reply({items = items})

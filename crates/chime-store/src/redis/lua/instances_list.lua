-- Lists the live instances without registering or expiring any.
-- ARGV: {}
-- Returns: {items: [{id, started_at, expires_at}]} sorted by id.
local now = now_ms()
local started = key('inst', 'started')
local items = {}
local rows = redis.call('ZRANGEBYSCORE', key('inst'), '(' .. int(now), '+inf', 'WITHSCORES')
for i = 1, #rows, 2 do
  items[#items + 1] = {id = rows[i], started_at = tonumber(redis.call('HGET', started, rows[i])), expires_at = tonumber(rows[i + 1])}
end
table.sort(items, function(x, y) return x.id < y.id end)
return reply({items = items})

-- Moves the newest `limit` entries of a queue's finished index as earlier
-- versions kept it (a sorted set fin:<queue>, scored by finished_at) to
-- the head of its finished list (lib_jobs.lua's finished_push), so the
-- list stays oldest first: entries pushed meanwhile are newer still.
-- ARGV: {queue, limit}
-- Returns: {moved}.
local fin = key('fin', A.queue)
local page = redis.call('ZRANGE', fin, -A.limit, -1, 'WITHSCORES')
local n = #page / 2
if n == 0 then return reply({moved = 0}) end
-- LPUSH puts its last argument first: the page goes in backwards, each
-- time's mark after (so before) its ids.
local args = {}
for i = n, 1, -1 do
  args[#args + 1] = page[2 * i - 1]
  local at = page[2 * i]
  if i == 1 or page[2 * i - 2] ~= at then args[#args + 1] = '@' .. int(tonumber(at)) end
end
local fl = key('fl', A.queue)
for i = 1, #args, CHUNK do redis.call('LPUSH', fl, unpack(args, i, math.min(#args, i + CHUNK - 1))) end
redis.call('ZREMRANGEBYRANK', fin, -A.limit, -1)
return reply({moved = n})

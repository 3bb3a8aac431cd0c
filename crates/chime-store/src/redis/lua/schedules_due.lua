-- Unpaused schedules of `buckets` whose next fire is at or before `until`,
-- earliest first.
-- ARGV: {buckets: [n], until, limit}
-- Returns: {items: [schedule fields]}.
local found = {}
for _, b in ipairs(A.buckets) do
  local rows = redis.call('ZRANGEBYSCORE', key('due', b), '-inf', A['until'], 'WITHSCORES', 'LIMIT', 0, A.limit)
  for i = 1, #rows, 2 do found[#found + 1] = {rows[i], tonumber(rows[i + 1])} end
end
table.sort(found, function(x, y) return x[2] < y[2] end)
local items = {}
for i = 1, math.min(#found, A.limit) do
  local s = schedule_doc(found[i][1])
  if s then items[#items + 1] = s end
end
return reply({items = items})

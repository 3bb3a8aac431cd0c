-- Unpaused schedules of `buckets` whose next fire is at or before `until`,
-- at most `limit` of them, the earliest when there are more.
-- ARGV: {buckets: [n], until, limit}
-- Returns: an array of id, record per schedule, the record as stored (the
--   layout above schedule_get): the caller parses and sorts them, which
--   for thousands of schedules a reload costs Redis no Lua patterns, JSON
--   or sort.
local ids = {}
for _, b in ipairs(A.buckets) do
  local rows = redis.call('ZRANGEBYSCORE', key('due', b), '-inf', A['until'], 'LIMIT', 0, A.limit)
  for _, id in ipairs(rows) do ids[#ids + 1] = id end
end
-- More than `limit` due (rare: a reload asks for many): the earliest, by
-- their scores, read only then (Redis formats each score it sends).
if #ids > A.limit then
  local order = {}
  for _, b in ipairs(A.buckets) do
    local rows = redis.call('ZRANGEBYSCORE', key('due', b), '-inf', A['until'], 'WITHSCORES', 'LIMIT', 0, A.limit)
    for i = 1, #rows, 2 do order[#order + 1] = {rows[i], tonumber(rows[i + 1])} end
  end
  table.sort(order, function(x, y) return x[2] < y[2] end)
  ids = {}
  for i = 1, A.limit do ids[i] = order[i][1] end
end
local out = {}
for _, id in ipairs(ids) do
  local raw = redis.call('GET', key('s', id))
  if raw then
    out[#out + 1] = id
    out[#out + 1] = raw
  end
end
return reply_array(out)

-- Unpaused schedules of `buckets` whose next fire is at or before `until`,
-- at most `limit` of them, the earliest when there are more.
-- ARGV: {buckets: [n], until, limit}
-- Returns: an array: the number of templates, then reference and text per
--   template, then key and record per schedule (schedule_record.rs parses
--   and sorts them: for thousands of schedules a reload then costs Redis
--   no JSON or sort).
local keys = {}
for _, b in ipairs(A.buckets) do
  local rows = redis.call('ZRANGEBYSCORE', key('due', b), '-inf', A['until'], 'LIMIT', 0, A.limit)
  for _, k in ipairs(rows) do keys[#keys + 1] = k end
end
-- More than `limit` due (rare: a reload asks for many): the earliest, by
-- their scores, read only then (Redis formats each score it sends).
if #keys > A.limit then
  local order = {}
  for _, b in ipairs(A.buckets) do
    local rows = redis.call('ZRANGEBYSCORE', key('due', b), '-inf', A['until'], 'WITHSCORES', 'LIMIT', 0, A.limit)
    for i = 1, #rows, 2 do order[#order + 1] = {rows[i], tonumber(rows[i + 1])} end
  end
  table.sort(order, function(x, y) return x[2] < y[2] end)
  keys = {}
  for i = 1, A.limit do keys[i] = order[i][1] end
end
local refs, schedules = {}, {}
for i = 1, #keys, CHUNK do
  local raws = redis.call('HMGET', key('sr'), unpack(keys, i, math.min(#keys, i + CHUNK - 1)))
  for j, raw in ipairs(raws) do
    if raw then
      local r = string.match(raw, '^([^,]*),')
      if r and not refs[r] then refs[r] = true; refs[#refs + 1] = r end
      schedules[#schedules + 1] = keys[i + j - 1]
      schedules[#schedules + 1] = raw
    end
  end
end
local out = {#refs}
for _, r in ipairs(refs) do
  out[#out + 1] = r
  out[#out + 1] = template(r)
end
for _, v in ipairs(schedules) do out[#out + 1] = v end
return reply_array(out)

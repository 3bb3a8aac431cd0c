-- A schedule's ledger, newest first, strictly before `before`.
-- ARGV: {schedule_id, before|null, limit}
-- Returns: {items: [occurrence]}.
local max = present(A.before) and ('(' .. int(A.before)) or '+inf'
local ats = redis.call('ZREVRANGEBYSCORE', key('o', A.schedule_id), max, '-inf', 'LIMIT', 0, A.limit)
local items = {}
for _, at in ipairs(ats) do
  local raw = redis.call('HGET', key('od', A.schedule_id), at)
  if raw then items[#items + 1] = cjson.decode(raw) end
end
return reply({items = items})

-- Running jobs whose lease ended by now, oldest first.
-- ARGV: {limit, now|null}
-- Returns: {now, items: [job fields]}.
local now = now_ms()
local items = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', RUNNING, '-inf', now, 'LIMIT', 0, A.limit)) do
  local j = job_doc(id)
  if j then items[#items + 1] = j end
end
return reply({now = now, items = items})

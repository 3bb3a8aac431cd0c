-- Running jobs whose lease ended by now, oldest lease first. A lease none
-- of whose jobs still runs under it is dropped.
-- ARGV: {limit, now|null}
-- Returns: {now, items: [job fields]}.
local now = now_ms()
local items = {}
for _, name in ipairs(redis.call('ZRANGEBYSCORE', RUNNING, '-inf', now, 'LIMIT', 0, A.limit)) do
  if #items >= A.limit then break end
  local listed = redis.call('HGET', JLI, name)
  local open = false
  if listed then
    for id in string.gmatch(listed, '[^,]+') do
      local j = job_doc(id)
      if j and j.state == 'running' and j.lease == name then
        open = true
        items[#items + 1] = j
      end
    end
  end
  if not open then lease_drop(name) end
end
return reply({now = now, items = items})

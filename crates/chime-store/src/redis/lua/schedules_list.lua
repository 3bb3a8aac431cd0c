-- Schedules in id order after `after_id`, filtered by namespace and a
-- case-insensitive substring of the name.
-- ARGV: {namespace|null, search|null, after_id|null, limit}
-- Returns: {items: [schedule fields]}.
local items = {}
local from = present(A.after_id) and ('(' .. A.after_id) or '-'
local needle = present(A.search) and string.lower(A.search) or nil
-- The next `page` ids overall are among the first `page` of each bucket.
local page = math.max(1, math.min(tonumber(A.limit), 500))
local buckets = redis.call('SMEMBERS', key('sl'))
local legacy = redis.call('EXISTS', key('sched')) == 1
while #items < A.limit do
  local ids = {}
  for _, b in ipairs(buckets) do
    for _, id in ipairs(redis.call('ZRANGEBYLEX', key('sl', b), from, '+', 'LIMIT', 0, page)) do
      ids[#ids + 1] = id
    end
  end
  if legacy then
    for _, id in ipairs(redis.call('ZRANGEBYLEX', key('sched'), from, '+', 'LIMIT', 0, page)) do
      ids[#ids + 1] = id
    end
  end
  if #ids == 0 then break end
  table.sort(ids)
  local last = nil
  for i = 1, math.min(#ids, page) do
    local id = ids[i]
    local s = id ~= last and schedule_doc(id) or nil
    last = id
    if s then
      local spec = cjson.decode(s.spec)
      spec.namespace = spec.namespace or 'default'
      local ok = (not present(A.namespace) or spec.namespace == A.namespace)
        and (not needle or string.find(string.lower(spec.name), needle, 1, true) ~= nil)
      if ok then
        items[#items + 1] = s
        if #items >= A.limit then break end
      end
    end
    from = '(' .. id
  end
end
return reply({items = items})

-- Schedules in id order after `after_id`, filtered by namespace and a
-- case-insensitive substring of the name.
-- ARGV: {namespace|null, search|null, after_id|null, limit}
-- Returns: {items: [schedule fields]}.
local items = {}
local from = present(A.after_id) and ('(' .. A.after_id) or '-'
local needle = present(A.search) and string.lower(A.search) or nil
local page = 500
while #items < A.limit do
  local ids = redis.call('ZRANGEBYLEX', key('sched'), from, '+', 'LIMIT', 0, page)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local s = schedule_doc(id)
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

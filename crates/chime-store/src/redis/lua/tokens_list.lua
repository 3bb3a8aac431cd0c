-- Every token, oldest first.
-- ARGV: {}
-- Returns: {items: [token]}.
local items = {}
for _, hash in ipairs(redis.call('HVALS', key('toks'))) do
  local raw = redis.call('GET', key('tok', hash))
  if raw then items[#items + 1] = cjson.decode(raw) end
end
table.sort(items, function(x, y)
  if x.created_at ~= y.created_at then return x.created_at < y.created_at end
  return x.id < y.id
end)
return reply({items = items})

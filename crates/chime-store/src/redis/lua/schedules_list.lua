-- Schedules in key order (which is id order) after `after_key`, filtered
-- by namespace and a case-insensitive substring of the name.
-- ARGV: {namespace|null, search|null, after_key|null, limit}
-- Returns: {items: [schedule_doc]}.
local items = {}
local from = present(A.after_key) and ('(' .. A.after_key) or '-'
local needle = present(A.search) and string.lower(A.search) or nil
-- A template's namespace, decoded once per reference.
local namespaces = {}
local function namespace(r)
  local ns = namespaces[r]
  if ns == nil then
    local ok, spec = pcall(cjson.decode, template(r))
    ns = ok and type(spec) == 'table' and spec.namespace or 'default'
    namespaces[r] = ns
  end
  return ns
end
-- The next `page` keys overall are among the first `page` of each bucket.
local page = math.max(1, math.min(tonumber(A.limit), 500))
local buckets = redis.call('SMEMBERS', key('sl'))
while #items < A.limit do
  local keys = {}
  for _, b in ipairs(buckets) do
    for _, k in ipairs(redis.call('ZRANGEBYLEX', key('sl', b), from, '+', 'LIMIT', 0, page)) do
      keys[#keys + 1] = k
    end
  end
  if #keys == 0 then break end
  table.sort(keys)
  for i = 1, math.min(#keys, page) do
    local k = keys[i]
    local raw = redis.call('HGET', key('sr'), k)
    local s = raw and schedule_parse(raw)
    if s then
      local len, rest = string.match(s.tail, '^(%d+)|(.*)$')
      local name = string.sub(rest or '', 1, tonumber(len) or 0)
      local ok = (not present(A.namespace) or namespace(s.r) == A.namespace)
        and (not needle or string.find(string.lower(name), needle, 1, true) ~= nil)
      if ok then
        items[#items + 1] = {key = k, record = raw, template = template(s.r)}
        if #items >= A.limit then break end
      end
    end
    from = '(' .. k
  end
end
return reply({items = items})

-- Every bucket with an owner.
-- ARGV: {}
-- Returns: {items: [{bucket, owner, epoch, expires_at}]}.
local items = {}
for _, b in ipairs(redis.call('ZRANGE', key('buckets'), 0, -1)) do
  local l = hgetall(key('b', b))
  if l and present(l.owner) and l.owner ~= '' then
    items[#items + 1] = {bucket = tonumber(b), owner = l.owner, epoch = tonumber(l.epoch), expires_at = tonumber(l.expires_at)}
  end
end
return reply({items = items})

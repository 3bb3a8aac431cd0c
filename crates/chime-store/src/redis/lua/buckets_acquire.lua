-- Takes or renews leases on `buckets` for `owner` where free, expired or
-- already its own; a change of owner increments the epoch.
-- ARGV: {owner, buckets: [n], ttl_ms, now|null}
-- Returns: {items: [{bucket, owner, epoch, expires_at}]} for those held.
local now = now_ms()
local expires = now + A.ttl_ms
local items = {}
for _, b in ipairs(A.buckets) do
  local k = key('b', b)
  local l = hgetall(k) or {epoch = '0', expires_at = '0'}
  local mine = l.owner == A.owner
  if mine or not present(l.owner) or l.owner == '' or tonumber(l.expires_at) <= now then
    local epoch = tonumber(l.epoch)
    if not mine then epoch = epoch + 1 end
    hwrite(k, {owner = A.owner, epoch = epoch, expires_at = expires})
    redis.call('ZADD', key('buckets'), b, b)
    items[#items + 1] = {bucket = b, owner = A.owner, epoch = epoch, expires_at = expires}
  end
end
return reply({items = items})

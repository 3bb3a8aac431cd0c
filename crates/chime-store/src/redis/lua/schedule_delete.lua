-- Deletes a schedule (its ledger stays until retention removes it).
-- ARGV: {id, key}
-- Returns: {deleted: bool}.
local s = schedule_get(A.key)
if not s then return reply({deleted = false}) end
redis.call('HDEL', key('sr'), A.key)
template_release(s.r)
listing_remove(A.key, s.b)
redis.call('ZREM', key('due', s.b), A.key)
redis.call('PUBLISH', key('changed'), 'schedule:' .. A.id)
return reply({deleted = true})

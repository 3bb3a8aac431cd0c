-- Deletes a schedule (its ledger stays until retention removes it).
-- ARGV: {id}
-- Returns: {deleted: bool}.
local s = schedule_get(A.id)
if not s then return reply({deleted = false}) end
redis.call('DEL', key('s', A.id))
listing_remove(A.id, s.b)
redis.call('ZREM', key('sched'), A.id)
redis.call('ZREM', key('due', s.b), A.id)
redis.call('PUBLISH', key('changed'), 'schedule:' .. A.id)
return reply({deleted = true})

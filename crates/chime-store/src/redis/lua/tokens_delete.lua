-- Deletes a token by id.
-- ARGV: {id}
-- Returns: {deleted: true|false}.
local hash = redis.call('HGET', key('toks'), A.id)
if not hash then return reply({deleted = false}) end
redis.call('DEL', key('tok', hash))
redis.call('HDEL', key('toks'), A.id)
return reply({deleted = true})

-- Deregisters instance `id` at once.
-- ARGV: {id}
-- Returns: {}.
redis.call('ZREM', key('inst'), A.id)
redis.call('HDEL', key('inst', 'started'), A.id)
return reply({})

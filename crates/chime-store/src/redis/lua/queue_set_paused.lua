-- Pauses or resumes a queue: a paused queue is never claimed from.
-- ARGV: {queue, paused}
-- Returns: {}.
if A.paused then
  redis.call('SADD', key('paused'), A.queue)
else
  redis.call('SREM', key('paused'), A.queue)
  redis.call('PUBLISH', key('changed'), 'jobs')
end
return reply({})

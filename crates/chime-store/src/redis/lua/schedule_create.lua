-- Creates a schedule.
-- ARGV: {id, bucket, spec (JSON text), paused, next_fire_at|null, now|null}
-- Returns: the schedule's fields.
local now = now_ms()
local paused = A.paused and 1 or 0
schedule_put(A.id, {
  b = A.bucket, s = A.spec, p = paused, v = 1,
  n = present(A.next_fire_at) and A.next_fire_at or nil, c = now, u = now,
})
listing_add(A.id, A.bucket)
index_due(A.id, A.bucket, paused, A.next_fire_at)
redis.call('PUBLISH', key('changed'), 'schedule:' .. A.id)
return reply(schedule_doc(A.id))

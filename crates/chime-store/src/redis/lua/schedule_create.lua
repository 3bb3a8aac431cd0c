-- Creates a schedule.
-- ARGV: {id, bucket, spec (JSON text), paused, next_fire_at|null, now|null}
-- Returns: the schedule's fields.
local now = now_ms()
local k = key('s', A.id)
hwrite(k, {
  bucket = A.bucket, spec = A.spec, paused = A.paused and '1' or '0', version = 1,
  next_fire_at = A.next_fire_at, created_at = now, updated_at = now,
})
redis.call('ZADD', key('sched'), 0, A.id)
index_due(A.id, A.bucket, A.paused and '1' or '0', A.next_fire_at)
redis.call('PUBLISH', key('changed'), 'schedules')
return reply(schedule_doc(A.id))

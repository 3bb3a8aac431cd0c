-- Creates a schedule (or replaces the one under its key).
-- ARGV: {id, key, bucket, ref, template, name, payload, paused,
--        next_fire_at|null, now|null}: the spec split as
--        schedule_record.rs's parts.
-- Returns: the schedule (schedule_doc).
local now = now_ms()
local paused = A.paused and 1 or 0
local old = schedule_get(A.key)
schedule_put(A.key, {
  r = template_acquire(A.ref, A.template), p = paused, v = 1,
  n = present(A.next_fire_at) and A.next_fire_at or nil, c = now, u = now, b = A.bucket,
  tail = schedule_tail(A.name, A.payload),
})
if old then template_release(old.r) end
listing_add(A.key, A.bucket)
index_due(A.key, A.bucket, paused, A.next_fire_at)
redis.call('PUBLISH', key('changed'), 'schedule:' .. A.id)
return reply(schedule_doc(A.key))

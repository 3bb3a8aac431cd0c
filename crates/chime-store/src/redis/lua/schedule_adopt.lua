-- Moves one schedule from the layout before schedule keys and templates
-- (a string key `s:<id>` listed and indexed by id) into today's, if its
-- record is still `raw` (migrate.rs read it; another instance may have
-- moved or changed it since).
-- ARGV: {id, key, raw, bucket, paused (0|1), version, next_fire_at|null,
--        created_at, updated_at, ref, template, name, payload}
-- Returns: {adopted: bool}.
if redis.call('GET', key('s', A.id)) ~= A.raw then return reply({adopted = false}) end
local old = schedule_get(A.key)
schedule_put(A.key, {
  r = template_acquire(A.ref, A.template), p = A.paused, v = A.version,
  n = present(A.next_fire_at) and A.next_fire_at or nil, c = A.created_at, u = A.updated_at,
  b = A.bucket, tail = schedule_tail(A.name, A.payload),
})
if old then template_release(old.r) end
redis.call('DEL', key('s', A.id))
redis.call('ZREM', key('sl', A.bucket), A.id)
redis.call('ZREM', key('due', A.bucket), A.id)
redis.call('ZREM', key('sched'), A.id)
listing_add(A.key, A.bucket)
index_due(A.key, A.bucket, A.paused, A.next_fire_at)
return reply({adopted = true})

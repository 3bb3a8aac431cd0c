-- Replaces a schedule's spec if its version is the expected one.
-- ARGV: {id, key, expected_version|null, ref, template, name, payload,
--        paused, next_fire_at|null, occurrences: [ledger entries to record
--        with the change], now|null}
-- Returns: {schedule} or {error: "not_found"} or {error: "conflict", found}.
local now = now_ms()
local s = schedule_get(A.key)
if not s then return reply({error = 'not_found'}) end
if present(A.expected_version) and tonumber(s.v) ~= tonumber(A.expected_version) then
  return reply({error = 'conflict', found = tonumber(s.v)})
end
-- Taken before the old one is let go, so a template both use stays.
local r = template_acquire(A.ref, A.template)
template_release(s.r)
s.r = r
s.tail = schedule_tail(A.name, A.payload)
s.p = A.paused and 1 or 0
s.v = tonumber(s.v) + 1
s.n = present(A.next_fire_at) and A.next_fire_at or nil
s.u = now
schedule_put(A.key, s)
index_due(A.key, s.b, s.p, A.next_fire_at)
for _, o in ipairs(A.occurrences) do record(A.id, o, now) end
redis.call('PUBLISH', key('changed'), 'schedule:' .. A.id)
return reply({schedule = schedule_doc(A.key)})

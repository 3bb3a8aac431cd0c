-- Replaces a schedule's spec if its version is the expected one.
-- ARGV: {id, expected_version|null, spec, paused, next_fire_at|null,
--        occurrences: [ledger entries to record with the change], now|null}
-- Returns: {schedule} or {error: "not_found"} or {error: "conflict", found}.
local now = now_ms()
local s = schedule_get(A.id)
if not s then return reply({error = 'not_found'}) end
if present(A.expected_version) and tonumber(s.v) ~= tonumber(A.expected_version) then
  return reply({error = 'conflict', found = tonumber(s.v)})
end
s.s = A.spec
s.p = A.paused and 1 or 0
s.v = tonumber(s.v) + 1
s.n = present(A.next_fire_at) and A.next_fire_at or nil
s.u = now
schedule_put(A.id, s)
index_due(A.id, s.b, s.p, A.next_fire_at)
for _, o in ipairs(A.occurrences) do record(A.id, o, now) end
redis.call('PUBLISH', key('changed'), 'schedule:' .. A.id)
return reply({schedule = schedule_doc(A.id)})

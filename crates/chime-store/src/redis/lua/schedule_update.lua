-- Replaces a schedule's spec if its version is the expected one.
-- ARGV: {id, expected_version|null, spec, paused, next_fire_at|null,
--        occurrences: [ledger entries to record with the change], now|null}
-- Returns: {schedule} or {error: "not_found"} or {error: "conflict", found}.
local now = now_ms()
local s = schedule_doc(A.id)
if not s then return reply({error = 'not_found'}) end
if present(A.expected_version) and tonumber(s.version) ~= tonumber(A.expected_version) then
  return reply({error = 'conflict', found = tonumber(s.version)})
end
local paused = A.paused and '1' or '0'
local nulls = {}
if not present(A.next_fire_at) then nulls[1] = 'next_fire_at' end
hwrite(key('s', A.id), {
  spec = A.spec, paused = paused, version = tonumber(s.version) + 1,
  next_fire_at = A.next_fire_at, updated_at = now,
}, nulls)
index_due(A.id, s.bucket, paused, A.next_fire_at)
for _, o in ipairs(A.occurrences) do record(A.id, o, now) end
redis.call('PUBLISH', key('changed'), 'schedules')
return reply({schedule = schedule_doc(A.id)})

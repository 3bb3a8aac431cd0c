-- Counts per queue and state; pending split at now into available and
-- scheduled (run_at ahead).
-- ARGV: {now|null}
-- Returns: {items: [{queue, paused, available, scheduled, running,
--           succeeded, dead, cancelled}]}.
local now = now_ms()
local names = redis.call('SUNION', key('queues'), key('paused'))
local items = {}
for _, q in ipairs(names) do
  local c = hgetall(key('qc', q)) or {}
  local scheduled = redis.call('ZCOUNT', key('q', q, 'd'), '(' .. int(now), '+inf')
  local n = function(s) return tonumber(c[s] or '0') end
  items[#items + 1] = {
    queue = q, paused = redis.call('SISMEMBER', key('paused'), q) == 1,
    available = n('pending') - scheduled, scheduled = scheduled, running = n('running'),
    succeeded = n('succeeded'), dead = n('dead'), cancelled = n('cancelled'),
  }
end
return reply({items = items})

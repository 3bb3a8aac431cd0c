-- Records outcomes, each only under its current lease.
-- ARGV: {completions: [{id, token, state: succeeded|pending|dead, run_at|null,
--        error|null, outcome, output|null}], now|null}
-- Returns: {applied: [bool]} in the order given.
local now = now_ms()
local applied = {}
local retried = false
for i, c in ipairs(A.completions) do
  local j = job_head(c.id)
  if j and j.state == 'running' and j.lease_token == c.token and tonumber(j.lease_expires_at) > now then
    local ended = {outcome = c.outcome, error = c.error, output = c.output}
    if c.state == 'pending' then
      requeue_job(j, tonumber(c.run_at), c.error, now, ended)
      retried = true
    else
      finish_job(j, c.state, now, c.error, ended)
    end
    applied[i] = true
  else
    applied[i] = false
  end
end
if retried then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply({applied = applied})

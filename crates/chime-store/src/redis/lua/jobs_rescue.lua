-- Applies the decisions for expired leases; a job whose lease was renewed
-- or which finished meanwhile is left alone. The expired run counts as an
-- attempt (DESIGN §2.4).
-- ARGV: {rescues: [{id, state: pending|dead, run_at}], now}
-- Returns: {ids: [rescued]}.
local now = now_ms()
local ids = {}
for _, r in ipairs(A.rescues) do
  local j = job_doc(r.id)
  if j and j.state == 'running' and tonumber(j.lease_expires_at) <= now then
    local ended = {outcome = 'lease_expired', error = 'lease expired'}
    if r.state == 'pending' then
      requeue_job(j, tonumber(r.run_at), 'lease expired', now, ended)
    else
      finish_job(j, 'dead', now, 'lease expired', ended)
    end
    ids[#ids + 1] = j.id
  end
end
if #ids > 0 then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply({ids = ids})

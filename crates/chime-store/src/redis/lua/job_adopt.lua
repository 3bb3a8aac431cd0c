-- Moves one job stored by an earlier version (a hash j:<id> of its
-- fields) into today's records (lib_jobs.lua); a running one gets a lease
-- of its own, as a heartbeat would give it. Other instances may adopt at
-- the same time: a job already moved is left alone.
-- ARGV: {id}
-- Returns: {adopted: bool}.
local old = key('j', A.id)
local j = hgetall(old)
if not j then return reply({adopted = false}) end
local STATE_ONLY = {
  state = true, attempt = true, lease_token = true, lease_expires_at = true, started_at = true,
  worker = true, finished_at = true, last_error = true, outcome = true, attempt_error = true,
  output = true,
}
local spec = {}
for f, v in pairs(j) do
  if not STATE_ONLY[f] then
    spec[#spec + 1] = f
    spec[#spec + 1] = v
  end
end
j.id = A.id
j.attempt = j.attempt or JOB_DEFAULTS.attempt
j.priority = j.priority or JOB_DEFAULTS.priority
if j.state == 'running' then
  -- Jobs claimed before jobs carried their attempt's start have it open
  -- in the attempts hash.
  if not j.started_at then
    local raw = redis.call('HGET', key('a', A.id), j.attempt)
    local open = raw and cjson.decode(raw)
    if open and not present(open.finished_at) then
      j.started_at = int(open.started_at)
      redis.call('HDEL', key('a', A.id), j.attempt)
    end
  end
  local own = (j.lease_token or '') .. '/' .. A.id
  local expires = j.lease_expires_at or '0'
  redis.call('ZREM', RUNNING, A.id)
  lease_put(own, expires, j.started_at or '', 1, j.worker or '', A.id)
  j.lease, j.started_at, j.worker = own, nil, nil
elseif j.state == 'pending' then
  clear_attempt(j)
end
redis.call('HSET', JR, A.id, cjson.encode(spec))
state_put(j)
redis.call('DEL', old)
return reply({adopted = true})

-- Records outcomes, each only under its current lease.
-- ARGV: {now|null}, then seven strings per completion: id, token, state
--   (succeeded|pending|dead), run_at ('' unless pending), error, outcome,
--   output; error and output are '' for none, else '=' and the text.
-- Returns: an array of 1 (applied) or 0 (the lease was lost), in the order given.
local now = now_ms()
local out = {}
local retried = false
local function text_opt(v)
  if v == '' then return nil end
  return string.sub(v, 2)
end
for i = 2, #ARGV, 7 do
  local j = job_head(ARGV[i])
  if j and j.state == 'running' and j.lease_token == ARGV[i + 1] and tonumber(j.lease_expires_at) > now then
    local err = text_opt(ARGV[i + 4])
    local ended = {outcome = ARGV[i + 5], error = err, output = text_opt(ARGV[i + 6])}
    if ARGV[i + 2] == 'pending' then
      requeue_job(j, tonumber(ARGV[i + 3]), err, now, ended)
      retried = true
    else
      finish_job(j, ARGV[i + 2], now, err, ended)
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
if retried then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply_array(out)

-- Records outcomes, each only under its current lease.
-- ARGV: {now|null}, then twelve strings per completion: id, token, state
--   (succeeded|pending|dead), run_at ('' unless pending), error, outcome,
--   output; error and output are '' for none, else '=' and the text. Then
--   the job as its claim returned it, or five '' when the caller no longer
--   has it: queue, attempt, namespace, unique_key and schedule_id ('' for
--   none).
-- Returns: an array of 1 (applied) or 0 (the lease was lost), in the order given.
local now = now_ms()
local out = {}
local retried = false
local function text_opt(v)
  if v == '' then return nil end
  return string.sub(v, 2)
end
for i = 2, #ARGV, 12 do
  local id, token, state = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local err, output = text_opt(ARGV[i + 4]), text_opt(ARGV[i + 6])
  local applied = false
  -- A finish from the claim's copy reads only the lease: while it holds,
  -- the copy is current (its fields are fixed at insert or set by that
  -- claim). Reading all eleven was a third of a completion.
  local held = ARGV[i + 7] ~= '' and state ~= 'pending'
  if held then
    local v = redis.call('HMGET', key('j', id), 'state', 'lease_token', 'lease_expires_at', 'started_at')
    -- Without started_at the attempt is archived from the job's fields.
    held = v[4] ~= false
    if held and v[1] == 'running' and v[2] == token and tonumber(v[3]) > now then
      finish(id, ARGV[i + 7], 'running', state, now, err, ARGV[i + 8], ARGV[i + 9], opt(ARGV[i + 10]),
        opt(ARGV[i + 11]), ARGV[i + 5], err, output)
      applied = true
    end
  end
  if not held then
    local j = job_head(id)
    if j and j.state == 'running' and j.lease_token == token and tonumber(j.lease_expires_at) > now then
      local ended = {outcome = ARGV[i + 5], error = err, output = output}
      if state == 'pending' then
        requeue_job(j, tonumber(ARGV[i + 3]), err, now, ended)
        retried = true
      else
        finish_job(j, state, now, err, ended)
      end
      applied = true
    end
  end
  out[#out + 1] = applied and 1 or 0
end
if retried then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply_array(out)

-- Records outcomes, each only under its current lease.
-- ARGV: {now|null}, then twelve strings per completion: id, token, state
--   (succeeded|pending|dead), run_at ('' unless pending), error, outcome,
--   output; error and output are '' for none, else '=' and the text. Then
--   the job as its claim returned it, or five '' when the caller no longer
--   has it: queue, attempt, namespace, unique_key and schedule_id ('' for
--   none).
-- Returns: an array of 1 (applied) or 0 (the lease was lost), in the order given.
local now = now_ms()
local now_s = now_text(now)
local out = {}
local retried = false
local function text_opt(v)
  if v == '' then return nil end
  return string.sub(v, 2)
end
local ids = {}
for i = 2, #ARGV, 12 do ids[#ids + 1] = ARGV[i] end
local states = hmget(JT, ids)
-- The finished jobs' new states, written in one command at the end.
local written, w = {}, 0
-- A job completed twice in one batch counts once.
local done = {}
for k = 1, #ids do
  local i = 12 * k - 10
  local id, token, state = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local err, output = text_opt(ARGV[i + 4]), text_opt(ARGV[i + 6])
  local applied = false
  if not done[id] then
    -- A finish from the claim's copy reads only the state and the lease:
    -- while the lease holds, the copy is current (its spec is fixed at
    -- insert, the rest set by that claim).
    if ARGV[i + 7] ~= '' and state ~= 'pending' then
      local st = states[k]
      local attempt, lease, from = state_cut(st, 'running,')
      if attempt and (lease == token or lease == token .. '/' .. id) then
        -- run_at, priority and max_attempts stay.
        local c = find(st, ',', find(st, ',', find(st, ',', from, true) + 1, true) + 1, true)
        local kept = sub(st, from, c - 1)
        local l = lease_get(lease)
        if l and l.expires > now then
          l.done = l.done + 1
          local queue = ARGV[i + 7]
          written[w + 1], written[w + 2], w = id, state .. ',' .. attempt .. ',,' .. kept .. ',' .. l.started
            .. ',' .. now_s .. ',' .. ARGV[i + 5] .. ',' .. T(err) .. l.tw .. T(err) .. T(output), w + 2
          count(queue, 'running', -1)
          count(queue, state, 1)
          finished_elsewhere(id, queue, now, ARGV[i + 9], opt(ARGV[i + 10]), opt(ARGV[i + 11]))
          applied = true
        end
      end
    else
      local j = job_doc(id)
      if j and holds(j, token, now) then
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
  end
  if applied then done[id] = true end
  out[k] = applied and 1 or 0
end
if w > 0 then hset_pairs(JT, written, w) end
if retried then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply_array(out)

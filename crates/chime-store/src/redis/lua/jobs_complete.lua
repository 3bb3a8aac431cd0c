-- Records outcomes, each only under its current lease.
-- ARGV: {now|null, queue|null}, then five strings per completion: id,
--   token, state (succeeded|pending|dead), outcome, and '' when the caller
--   holds the job, in `queue`, with nothing more to say; otherwise seven
--   texts packed as lib_jobs.lua's T packs them: run_at (a retry's),
--   error, output, and the held job's queue, namespace, unique key and
--   schedule id, the queue none when the caller no longer has the job.
-- Returns: an array of 1 (applied) or 0 (the lease was lost), in the order given.
local now = now_ms()
local now_s = now_text(now)
local out = {}
local retried = false
local ids = {}
for i = 2, #ARGV, 5 do ids[#ids + 1] = ARGV[i] end
local states = hmget(JT, ids)
-- The finished jobs' new states, written in one command at the end.
local written, w = {}, 0
-- A job completed twice in one batch counts once.
local done = {}
-- The fast path's finishes by queue, then state: counted once each below.
local finished = {}
for k = 1, #ids do
  local i = 5 * k - 3
  local id, token, state, outcome, more = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local run_at, err, output, queue, namespace, unique_key, schedule_id
  if more == '' then
    queue = A.queue
  else
    local t = texts(more, 1, 7)
    if t then run_at, err, output, queue, namespace, unique_key, schedule_id = unpack(t, 1, 7) end
  end
  local applied = false
  if not done[id] then
    -- A finish from the claim's copy reads only the state and the lease:
    -- while the lease holds, the copy is current (its spec is fixed at
    -- insert, the rest set by that claim).
    if queue and state ~= 'pending' then
      local st = states[k]
      local attempt, lease_at, from = state_cut(st, 'running,')
      local lease = attempt and lease_named(st, lease_at, from, token, id)
      if lease then
        -- run_at, priority and max_attempts stay.
        local c = find(st, ',', find(st, ',', find(st, ',', from, true) + 1, true) + 1, true)
        local l = lease_get(lease)
        if l and l.expires > now then
          l.done = l.done + 1
          local e = err and T(err) or '-'
          written[w + 1], written[w + 2], w = id, state .. ',' .. attempt .. ',,' .. sub(st, from, c - 1) .. ','
            .. l.started .. ',' .. now_s .. ',' .. outcome .. ',' .. e .. l.tw .. e
            .. (output and T(output) or '-'), w + 2
          local t = finished[queue]
          if not t then
            t = {}
            finished[queue] = t
          end
          t[state] = (t[state] or 0) + 1
          finished_elsewhere(id, queue, now, namespace, unique_key, schedule_id)
          applied = true
        end
      end
    else
      local j = job_doc(id)
      if j and holds(j, token, now) then
        local ended = {outcome = outcome, error = err, output = output}
        if state == 'pending' then
          requeue_job(j, tonumber(run_at), err, now, ended)
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
for queue, by_state in pairs(finished) do
  for state, n in pairs(by_state) do
    count(queue, 'running', -n)
    count(queue, state, n)
  end
end
if w > 0 then hset_pairs(JT, written, w) end
if retried then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply_array(out)

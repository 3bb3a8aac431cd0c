-- Applies fires atomically (DESIGN §2.1, §2.5): for each, the bucket lease
-- must be `owner`'s at `epoch`, the schedule's next fire and version the
-- expected ones; then its occurrences are recorded under their fire keys,
-- their jobs made (overlap skip/replace honoured) and the schedule advanced.
-- ARGV: {owner, now|null, fires: [{schedule_id, bucket, epoch,
--        expected_next_fire_at, expected_version, next_fire_at|null,
--        overlap, occurrences: [{scheduled_for, outcome, reason, count,
--        last_scheduled_for, ledger, job|null}]}]}, numbers as text; `ledger`
--        is the occurrence's ledger entry up to its recording time.
-- Returns: {results: [{result: "applied"|"duplicate"|"stale_epoch",
--           job_ids, skipped_overlap}]}.
local now = now_ms()
local OVERLAP = 'overlap: the previous job is still pending or running'
local results = {}
local made = false
-- A batch holds fires of few buckets: each lease is read once, and whether
-- it is live now decided once.
local leases = {}
for i, f in ipairs(A.fires) do
  local lease = leases[f.bucket]
  if lease == nil then
    lease = hgetall(key('b', f.bucket)) or false
    if lease then lease.live = lease.owner == A.owner and tonumber(lease.expires_at) > now end
    leases[f.bucket] = lease
  end
  local s = schedule_head(f.schedule_id)
  if not lease or not lease.live or not same(lease.epoch, f.epoch) then
    results[i] = {result = 'stale_epoch'}
  elseif not s or not present(s.n) or not same(s.n, f.expected_next_fire_at)
     or not same(s.v, f.expected_version) then
    results[i] = {result = 'duplicate'}
  else
    schedule_advance(f.schedule_id, s, f.next_fire_at)
    index_due(f.schedule_id, s.b, s.p, f.next_fire_at)
    local active = {}
    if f.overlap ~= 'allow' then active = redis.call('SMEMBERS', key('sa', f.schedule_id)) end
    local job_ids = {}
    local skipped = false
    for _, o in ipairs(f.occurrences) do
      local job = present(o.job) and o.job or nil
      if job and #active > 0 then
        if f.overlap == 'skip' then
          job = nil
          o.outcome = 'skipped'
          o.reason = OVERLAP
          o.ledger = nil
          skipped = true
        else
          for _, id in ipairs(active) do
            local old = job_doc(id)
            if old and (old.state == 'pending' or old.state == 'running') then cancel_job(old, now) end
          end
          active = {}
        end
      end
      o.job_id = job and job.id or nil
      if record(f.schedule_id, o, now) and job then
        insert_job(job, now)
        job_ids[#job_ids + 1] = job.id
        active[#active + 1] = job.id
        made = true
      end
    end
    results[i] = {result = 'applied', job_ids = job_ids, skipped_overlap = skipped}
  end
end
if made then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply({results = results})

-- Applies fires atomically (DESIGN §2.1, §2.5): for each, the bucket lease
-- must be `owner`'s at `epoch`, the schedule's next fire and version the
-- expected ones; then its occurrences are recorded under their fire keys,
-- their jobs made (overlap skip/replace honoured) and the schedule advanced.
-- ARGV: {owner, now|null}, then per fire, as plain strings (numbers as
--   text): schedule_id, its key (schedule_key.rs), bucket, epoch, expected_next_fire_at,
--   expected_version, next_fire_at ('' for none), overlap, the number of
--   occurrences; then per occurrence: scheduled_for, its ledger entry up to
--   its recording time, the entry to record instead if overlap skips its
--   job ('' where it cannot), then '1' and the job to make (lib_jobs.lua's
--   insert_job) or '0'.
-- Returns: an array with one array per fire: {'applied', skipped_overlap
--   (0|1), job ids made...}, {'duplicate'} or {'stale_epoch'}.
local now = now_ms()
local out = {}
local made = false
-- A batch holds fires of few buckets: each lease is read once, and whether
-- it is live now decided once.
local leases = {}
local i = 2
while i <= #ARGV do
  local id, k, bucket, epoch, expected_next, expected_version, next_fire, overlap =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], opt(ARGV[i + 6]), ARGV[i + 7]
  local n = tonumber(ARGV[i + 8])
  -- The occurrences are read in place if the fire applies (no table per
  -- occurrence or job); this pass finds where the next fire starts.
  local first = i + 9
  i = first
  for _ = 1, n do
    i = i + 4
    if ARGV[i - 1] == '1' then i = job_end(i) end
  end
  local lease = leases[bucket]
  if lease == nil then
    lease = hgetall(key('b', bucket)) or false
    if lease then lease.live = lease.owner == A.owner and tonumber(lease.expires_at) > now end
    leases[bucket] = lease
  end
  local s = schedule_get(k)
  if not lease or not lease.live or not same(lease.epoch, epoch) then
    out[#out + 1] = {'stale_epoch'}
  elseif not s or not present(s.n) or not same(s.n, expected_next) or not same(s.v, expected_version) then
    out[#out + 1] = {'duplicate'}
  else
    schedule_advance(k, s, next_fire)
    index_due(k, s.b, s.p, next_fire)
    -- Only `skip` and `replace` look at the schedule's active jobs; under
    -- `allow` every occurrence of a catch-up fire keeps its job.
    local checks = overlap ~= 'allow'
    local active = checks and redis.call('SMEMBERS', key('sa', id)) or nil
    local result = {'applied', 0}
    local at = first
    for _ = 1, n do
      local has_job = ARGV[at + 3] == '1'
      local job = has_job and at + 4 or nil
      local ledger = ARGV[at + 1]
      if job and checks and #active > 0 then
        if overlap == 'skip' then
          job, ledger = nil, opt(ARGV[at + 2])
          result[2] = 1
        else
          -- The active jobs may include ones this script made, whose
          -- writes wait in lib.lua's deferred commands.
          flush()
          for _, old_id in ipairs(active) do
            local old = job_doc(old_id)
            if old and (old.state == 'pending' or old.state == 'running') then cancel_job(old, now) end
          end
          active = {}
        end
      end
      if record_doc(id, ARGV[at], ledger .. now_text(now) .. '}', now) and job then
        insert_job(job, now)
        result[#result + 1] = ARGV[job]
        if checks then active[#active + 1] = ARGV[job] end
        made = true
      end
      at = has_job and job_end(at + 4) or at + 4
    end
    out[#out + 1] = result
  end
end
if made then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply_array(out)

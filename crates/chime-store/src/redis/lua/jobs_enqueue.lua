-- Inserts new jobs; a job whose unique key an active job holds is not
-- inserted and that job's id is returned instead.
-- ARGV: {now|null}, then the jobs one after another (lib_jobs.lua's insert_job).
-- Returns: an array of id, duplicate (0|1) per job, in the order given.
local now = now_ms()
local out = {}
local any = false
local i = 2
while i <= #ARGV do
  local inserted, holder = insert_job(i, now)
  if inserted then
    out[#out + 1] = ARGV[i]
    out[#out + 1] = 0
    any = true
  else
    out[#out + 1] = holder
    out[#out + 1] = 1
  end
  i = job_end(i)
end
if any then redis.call('PUBLISH', key('changed'), 'jobs') end
return reply_array(out)

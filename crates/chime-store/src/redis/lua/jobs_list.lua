-- Jobs newest first (ids sort by creation) before `before_id`, filtered.
-- ARGV: {namespace|null, queue|null, state|null, schedule_id|null,
--        before_id|null, limit}
-- Returns: {items: [job fields]}.
local index = present(A.schedule_id) and key('sj', A.schedule_id) or key('jobs')
local from = present(A.before_id) and ('(' .. A.before_id) or '+'
local items = {}
while #items < A.limit do
  local ids = redis.call('ZREVRANGEBYLEX', index, from, '-', 'LIMIT', 0, 500)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local j = job_doc(id)
    if j and (not present(A.namespace) or j.namespace == A.namespace)
       and (not present(A.queue) or j.queue == A.queue)
       and (not present(A.state) or j.state == A.state) then
      items[#items + 1] = j
      if #items >= A.limit then break end
    end
    from = '(' .. id
  end
end
return reply({items = items})

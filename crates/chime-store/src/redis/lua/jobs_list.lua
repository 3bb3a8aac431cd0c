-- Jobs newest first (ids sort by creation) before `before_id`, filtered,
-- examining at most `slice` ids: when it stops short of `limit` with ids
-- left, `resume` is the last id it examined, to list on from.
-- ARGV: {namespace|null, queue|null, state|null, schedule_id|null,
--        before_id|null, limit, slice}
-- Returns: {items: [job fields], resume|null}.
local index = present(A.schedule_id) and key('sj', A.schedule_id) or key('jobs')
local from = present(A.before_id) and ('(' .. A.before_id) or '+'
local items = {}
local left = tonumber(A.slice)
local resume = nil
while #items < A.limit do
  if left <= 0 then
    if from ~= '+' then resume = string.sub(from, 2) end
    break
  end
  local ids = redis.call('ZREVRANGEBYLEX', index, from, '-', 'LIMIT', '0', tostring(math.min(500, left)))
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    left = left - 1
    from = '(' .. id
    local j = job_doc(id)
    if j and (not present(A.namespace) or j.namespace == A.namespace)
       and (not present(A.queue) or j.queue == A.queue)
       and (not present(A.state) or j.state == A.state) then
      items[#items + 1] = j
      if #items >= A.limit then break end
    end
  end
end
return reply({items = items, resume = resume})

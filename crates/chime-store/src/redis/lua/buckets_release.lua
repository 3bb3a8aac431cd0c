-- Gives back `owner`'s leases on `buckets` (the epoch stays).
-- ARGV: {owner, buckets: [n]}
-- Returns: {}.
for _, b in ipairs(A.buckets) do
  local k = key('b', b)
  if redis.call('HGET', k, 'owner') == A.owner then
    redis.call('HSET', k, 'owner', '', 'expires_at', 0)
  end
end
return reply({})

-- The token whose secret hashes to `hash`.
-- ARGV: {hash}
-- Returns: {item: token|absent}.
local raw = redis.call('GET', key('tok', A.hash))
if not raw then return reply({}) end
return reply({item = cjson.decode(raw)})

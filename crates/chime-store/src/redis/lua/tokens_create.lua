-- Stores an API token under the SHA-256 of its secret.
-- ARGV: {id, name, role, namespace, hash, now|null}
-- Returns: {id, name, role, namespace, created_at}.
local doc = {id = A.id, name = A.name, role = A.role, namespace = A.namespace, created_at = now_ms()}
redis.call('SET', key('tok', A.hash), cjson.encode(doc))
redis.call('HSET', key('toks'), A.id, A.hash)
return reply(doc)

-- complete_finalize.lua: FINALIZING -> DONE for the holder of the current token.
--
-- KEYS[1..4]  the batch layout (lib.lua)
-- KEYS[5] the shard's active index   KEYS[6] the shard's owners index
-- ARGV[1] batch_id  [2] token  [3] now: '' (the server's clock) or a pinned ms  [4] retention ms
--
-- Reply: 1 if this call finished the batch, 0 otherwise (wrong token, not finalizing, already done).
--
-- Invariants: DONE is reached once, by the current token only. The batch leaves every index, and every
-- key of the batch gets the retention TTL, so nothing outlives it.

local b = els_batch(KEYS, ARGV[1])
local m = redis.call('HMGET', b.hash, 'state', 'token', 'active_member', 'owner_member')
if m[1] ~= 'finalizing' or m[2] ~= ARGV[2] then
  return 0
end
redis.call('HSET', b.hash, 'state', 'done', 'state_ms', els_clock(ARGV[3]))
redis.call('ZREM', b.deadlines, b.id)
redis.call('ZREM', b.stuck, b.id)
redis.call('ZREM', KEYS[5], m[3])
redis.call('ZREM', KEYS[6], m[4])
els_expire_batch(b, tonumber(ARGV[4]))
return 1

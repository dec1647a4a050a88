-- expire.lua: move the OPEN batches of one shard whose deadline has passed to EXPIRED.
--
-- KEYS[1] the shard's deadlines index   KEYS[2] the shard's stuck index
-- ARGV[1] shard key base  [2] now_ms  [3] most entries to look at
--
-- Reply: {scanned, {batch_id, owner, expected, assigned, failed, correlation_id, {missing essay ids}}, ...}
--   scanned < ARGV[3] means the shard has nothing more due.
--
-- Invariants: OPEN -> EXPIRED happens once per batch, and never to a batch that sealed (the state is
-- checked and changed in this one step, so the last claim and the sweep cannot both win). The cost is
-- bounded by ARGV[3], whatever the number of open batches (plus one PERSIST per slot of each batch
-- expired: from now on its keys live until DONE). Entries whose batch is gone or no longer OPEN are
-- dropped from the index.

local base, now = ARGV[1], ARGV[2]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local reply = {#due}
for _, batch_id in ipairs(due) do
  local hash = els_batch_key(base, batch_id)
  local m = redis.call('HMGET', hash, 'state', 'owner', 'expected', 'assigned', 'failed', 'correlation_id')
  redis.call('ZREM', KEYS[1], batch_id)
  if m[1] == 'open' then
    els_close(els_batch_at(hash, batch_id, KEYS[1], KEYS[2]), 'expired', now)
    local consumed = tonumber(m[4]) + tonumber(m[5])
    local missing = els_slot_range(hash, consumed, tonumber(m[3]) - 1)
    table.insert(reply, {batch_id, m[2], m[3], m[4], m[5], m[6], missing})
  end
end
return reply

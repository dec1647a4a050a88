-- expire.lua: move the OPEN batches of one shard whose deadline has passed to EXPIRED.
--
-- KEYS[1] the shard's deadlines index   KEYS[2] the shard's stuck index
-- ARGV[1] shard key base  [2] now: '' (the server's clock) or a pinned ms  [3] most entries to look at
-- ARGV[4] late grace ms
-- ARGV[5] due entries to skip (those an earlier call of the same walk held)
--
-- Reply: {scanned, held, {batch_id, owner, expected, assigned, failed, correlation_id}, ...};
--   scanned < ARGV[3] means the shard has nothing more due; otherwise the caller calls again (another
--   script: Redis serves everyone else in between). Held entries stay in the index, ahead of the rest,
--   so the walk skips them on its next call.
--   Missing essay ids are not listed: status.lua names them when the batch's completion reads it.
--
-- Invariants: OPEN -> EXPIRED happens once per batch, and never to a batch that sealed (the state is
-- checked and changed in this one step, so the last claim and the sweep cannot both win). A deadline is
-- judged at receipt: a due batch with uploads received in time and not settled yet ('inflight' > 0) is
-- held (left OPEN and in the index) until they settle or the grace after its deadline runs out; then it
-- expires, and its slots count what arrived. The cost is bounded by ARGV[3] entries, each a few
-- commands whatever its batch's size (closing touches no slot), and by nothing else: not the number
-- of open batches. Entries whose batch is gone or no longer OPEN are dropped.

local base, now, grace = ARGV[1], els_clock(ARGV[2]), tonumber(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', tonumber(ARGV[5]), tonumber(ARGV[3]))
local reply = {0, 0}
for _, batch_id in ipairs(due) do
  reply[1] = reply[1] + 1
  local hash = els_batch_key(base, batch_id)
  local m = redis.call('HMGET', hash, 'state', 'owner', 'expected', 'assigned', 'failed', 'correlation_id',
    'inflight', 'deadline_ms')
  local waiting = m[1] == 'open' and tonumber(m[7] or '0') > 0 and tonumber(now) < tonumber(m[8]) + grace
  if waiting then
    reply[2] = reply[2] + 1
  else
    redis.call('ZREM', KEYS[1], batch_id)
    if m[1] == 'open' then
      els_close(els_batch_at(hash, batch_id, KEYS[1], KEYS[2]), 'expired', now)
      table.insert(reply, {batch_id, m[2], m[3], m[4], m[5], m[6]})
    end
  end
end
return reply

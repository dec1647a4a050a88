-- begin_finalize.lua: let exactly one caller finalize a sealed, expired, closed or cancelled batch.
--
-- KEYS[1] the batch hash  KEYS[2] the shard's stuck index  KEYS[3] the shard's token counter
-- ARGV[1] batch_id  [2] now: '' (the server's clock) or a pinned ms  [3] lease ms
--
-- Reply: {acquired 0|1, token|'', state|'', taken_over 0|1}   (state '' = no such batch)
--
-- Invariants: SEALED|EXPIRED|CLOSED|CANCELLED -> FINALIZING is a compare-and-set, so one caller acquires. A batch left
-- FINALIZING longer than the lease (its finalizer died) is taken over with a new token; the old token
-- can then no longer complete it. Tokens come from a per-shard counter, so they never repeat, not even
-- for a batch id registered again after its keys expired. The batch's keys carry no TTL while it is
-- FINALIZING (complete_finalize sets the retention TTL).

local m = redis.call('HMGET', KEYS[1], 'state', 'state_ms')
local state, now = m[1], els_clock(ARGV[2])
if not state then
  return {0, '', '', 0}
end
local taken_over = 0
if state == 'finalizing' then
  if tonumber(now) - tonumber(m[2]) <= tonumber(ARGV[3]) then
    return {0, '', state, 0}
  end
  taken_over = 1
elseif state ~= 'sealed' and state ~= 'expired' and state ~= 'closed' and state ~= 'cancelled' then
  return {0, '', state, 0}
end
local token = tostring(redis.call('INCR', KEYS[3]))
redis.call('HSET', KEYS[1], 'state', 'finalizing', 'token', token, 'state_ms', now)
redis.call('ZADD', KEYS[2], now, ARGV[1])
-- Closing removed every TTL already; a batch closed while keys still carried one gets it removed here.
els_persist_batch(els_batch_at(KEYS[1], ARGV[1], nil, KEYS[2]))
return {1, token, 'finalizing', taken_over}

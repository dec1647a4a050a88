-- gauges.lua: the figures of one shard's indexes that the operations gauges show (writes nothing).
--
-- KEYS[1] the shard's deadlines index  KEYS[2] its active index  KEYS[3] its stuck index
-- KEYS[4] its parked index (batches not registered yet with parked entries, by expiry ms)
-- ARGV[1] late grace ms (an OPEN batch is overdue that long after its deadline)
-- ARGV[2] stuck-after ms (a closed batch is due a re-kick that long after its state changed)
-- ARGV[3] now: '' (the server's clock) or a pinned ms  [4] most parked batches to count entries of
--
-- Reply: {OPEN batches, OPEN batches due before the overdue cutoff, the oldest not-DONE batch's
--   active member or '', batches closed and not DONE, those of them due a re-kick before the cutoff,
--   entries parked for the first ARGV[4] batches whose parked entries have not lapsed}.
--
-- Cost: O(log N) per index, plus one HLEN per parked batch up to ARGV[4]; nothing else is walked.
-- The pending hashes are derived from the parked index's key: same shard, same hash tag.

local now = tonumber(els_clock(ARGV[3]))
local overdue = string.format('%d', now - tonumber(ARGV[1]))
local stuck = string.format('%d', now - tonumber(ARGV[2]))
local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
local base = string.sub(KEYS[4], 1, #KEYS[4] - #':parked')
local parked = 0
for _, batch_id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. string.format('%d', now), '+inf', 'LIMIT', 0, tonumber(ARGV[4]))) do
  parked = parked + redis.call('HLEN', base .. ':batch:' .. batch_id .. ':pending')
end
return {
  redis.call('ZCARD', KEYS[1]),
  redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. overdue),
  oldest[1] or '',
  redis.call('ZCARD', KEYS[3]),
  redis.call('ZCOUNT', KEYS[3], '-inf', '(' .. stuck),
  parked,
}

-- gauges.lua: the figures of one shard's indexes that the operations gauges show (writes nothing).
--
-- KEYS[1] the shard's deadlines index  KEYS[2] its active index  KEYS[3] its stuck index
-- ARGV[1] overdue cutoff ms (deadline before it)  [2] stuck cutoff ms (state changed before it)
--
-- Reply: {OPEN batches, OPEN batches due before the overdue cutoff, the oldest not-DONE batch's
--   active member or '', batches closed and not DONE, those of them due a re-kick before the cutoff}.
--
-- Cost: O(log N) per index; nothing is walked.

local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
return {
  redis.call('ZCARD', KEYS[1]),
  redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1]),
  oldest[1] or '',
  redis.call('ZCARD', KEYS[3]),
  redis.call('ZCOUNT', KEYS[3], '-inf', '(' .. ARGV[2]),
}

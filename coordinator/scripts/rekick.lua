-- rekick.lua: hand out the batches of one shard that sit in SEALED, EXPIRED, CLOSED, CANCELLED or
-- FINALIZING too long.
--
-- KEYS[1] the shard's stuck index
-- ARGV[1] shard key base  [2] now: '' (the server's clock) or a pinned ms
-- ARGV[3] period ms (a batch is due when its state changed longer ago)  [4] most entries
--
-- Reply: {scanned, batch_id, state, batch_id, state, ...}; scanned < ARGV[4] means nothing more is due.
--   state '' = the batch's hash is gone (evicted, deleted by hand): handed out once so it is reported.
--
-- Invariants: each batch handed out has its score bumped in the same step, so two concurrent sweeps
-- never re-kick the same batch twice in one period. The bump backs off: the k-th re-kick of a batch
-- waits (2^min(k-1, 3) - 1) periods more before the next, so a batch whose work sits behind a long queue
-- is not handed out again every period, each time adding a copy of that work to the same queue. Cost bounded by ARGV[4]. Entries whose batch
-- is in another state (DONE, or OPEN under a later registration of the id) are dropped from the index;
-- an entry whose batch is gone is dropped too, and handed out as vanished in the same step.

local base, now, period = ARGV[1], tonumber(els_clock(ARGV[2])), tonumber(ARGV[3])
local cutoff = string.format('%d', now - period)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. cutoff, 'LIMIT', 0, tonumber(ARGV[4]))
local reply = {#due}
for _, batch_id in ipairs(due) do
  local state = redis.call('HGET', els_batch_key(base, batch_id), 'state')
  if state == 'sealed' or state == 'expired' or state == 'closed' or state == 'cancelled'
    or state == 'finalizing' then
    local kicks = redis.call('HINCRBY', els_batch_key(base, batch_id), 'rekicks', 1)
    local wait = period * (2 ^ math.min(kicks - 1, 3) - 1)
    redis.call('ZADD', KEYS[1], string.format('%d', now + wait), batch_id)
    table.insert(reply, batch_id)
    table.insert(reply, state)
  else
    redis.call('ZREM', KEYS[1], batch_id)
    if not state then -- closed and never DONE, yet its keys are gone: reported once, never forgotten
      table.insert(reply, batch_id)
      table.insert(reply, '')
    end
  end
end
return reply

-- receive.lua: record at intake that an upload reached its batch before the deadline.
--
-- KEYS[1] the batch hash
-- ARGV[1] submission_id  [2] now_ms
--
-- Reply: {word, state|'', deadline_ms|'', received_ms|'', replayed 0|1}, word one of
--   received   the receipt is recorded (replayed 1: it was already, by an earlier call, or the
--              submission's outcome is recorded already, with received_ms ''; nothing changed)
--   unknown    no such batch
--   closed     the batch is not OPEN (state says what it is)
--   late       the batch is OPEN but its deadline has passed (now >= deadline_ms)
--
-- Invariants: a deadline is judged here, at receipt, never when processing finishes: a submission
-- received before the deadline keeps the right to the next slot while the batch is OPEN, however long
-- its processing waits (a backlog, a retry, a lost message resubmitted). Each submission is received
-- once: 'r:<submission>' holds its receipt time and 'inflight' counts receipts whose claim or failure
-- is not recorded yet (els_take decrements it once); a repeat changes nothing and answers as the first
-- call did. Receipts are written only for a registered OPEN batch, so parked arrivals never have one.

local hash, submission_id, now = KEYS[1], ARGV[1], ARGV[2]
local m = redis.call('HMGET', hash, 'state', 'deadline_ms', 'r:' .. submission_id, 's:' .. submission_id)
local state, deadline, received = m[1], m[2], m[3]
if not state then
  return {'unknown', '', '', '', 0}
end
if received or m[4] then -- received already, or settled already: nothing is left to wait for
  return {'received', state, deadline, received or '', 1}
end
if state ~= 'open' then
  return {'closed', state, deadline, '', 0}
end
if tonumber(now) >= tonumber(deadline) then
  return {'late', state, deadline, '', 0}
end
redis.call('HSET', hash, 'r:' .. submission_id, now)
redis.call('HINCRBY', hash, 'inflight', 1)
return {'received', state, deadline, now, 0}

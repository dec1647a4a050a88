-- receive.lua: record at intake that one request's uploads reached their batch before the deadline.
--
-- KEYS[1] the batch hash
-- ARGV[1] now: '' (the server's clock) or a pinned ms  ARGV[2..] the submission ids of the request
--
-- Reply: {word, state|'', deadline_ms|'', received_ms|'', replayed 0|1}, word one of
--   received   every submission's receipt is recorded, those new at received_ms (replayed 1: each was
--              received already, by an earlier call, or its outcome is recorded already; nothing changed,
--              and received_ms is the first one's earlier receipt, or '')
--   unknown    no such batch
--   closed     the batch is not OPEN (state says what it is)
--   late       the batch is OPEN but its deadline has passed (now >= deadline_ms)
--
-- Invariants: a deadline is judged here, at receipt, never when processing finishes: a submission
-- received before the deadline keeps the right to the next slot while the batch is OPEN, however long
-- its processing waits (a backlog, a retry, a lost message resubmitted). A request is received whole,
-- at one instant of the server's clock, or not at all: no receipt is written for a request refused, so
-- none holds the batch's expiry for an upload that is never stored. Each submission is received once:
-- 'r:<submission>' holds its receipt time and 'inflight' counts receipts whose claim or failure is not
-- recorded yet (els_take decrements it once); a repeat changes nothing and answers as the first call
-- did. Receipts are written only for a registered OPEN batch, so parked arrivals never have one.

local hash, now = KEYS[1], els_clock(ARGV[1])
local fields = {'state', 'deadline_ms'}
for i = 2, #ARGV do
  fields[#fields + 1] = 'r:' .. ARGV[i]
  fields[#fields + 1] = 's:' .. ARGV[i]
end
local m = redis.call('HMGET', hash, unpack(fields))
local state, deadline = m[1], m[2]
if not state then
  return {'unknown', '', '', '', 0}
end
local fresh = {}
for i = 2, #ARGV do
  local at = 2 * i - 1 -- m[at] is the receipt of ARGV[i], m[at + 1] its outcome
  if not m[at] and not m[at + 1] then -- neither received nor settled yet
    fresh[#fresh + 1] = ARGV[i]
  end
end
if #fresh == 0 then
  return {'received', state, deadline, m[3] or '', 1}
end
if state ~= 'open' then
  return {'closed', state, deadline, '', 0}
end
if tonumber(now) >= tonumber(deadline) then
  return {'late', state, deadline, '', 0}
end
local receipts = {}
for _, submission_id in ipairs(fresh) do
  receipts[#receipts + 1] = 'r:' .. submission_id
  receipts[#receipts + 1] = now
end
redis.call('HSET', hash, unpack(receipts))
redis.call('HINCRBY', hash, 'inflight', #fresh)
return {'received', state, deadline, now, 0}

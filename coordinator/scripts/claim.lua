-- claim.lua: give one processed submission the next free slot of its batch.
--
-- KEYS[1..4]  the batch layout (lib.lua)
-- ARGV[1] batch_id  [2] submission_id  [3] content digest (coordinator/keys.py content_digest)
-- ARGV[4] now: '' (the server's clock) or a pinned ms  [5] pending ttl ms  [6] most entries parked per
-- unknown batch
--
-- Reply: '<outcome>|<essay_id or empty>|<slot or -1>|<sealed 0|1>|<replayed 0|1>|<state or empty>|<code>|
-- <detail>' (code and detail as first recorded, for a failed slot; empty otherwise; detail may hold '|'),
-- outcome one of
--   assigned | duplicate | excess | failed (a replay of a recorded failure) | pending | pending_full
--
-- Invariants: one submission gets one outcome forever (a redelivery replays it, with sealed 0); one
-- content digest holds at most one slot; slots are consumed in order; a batch that is not OPEN takes no
-- slot; the batch seals exactly once, and only the claim that consumed the last slot sees sealed 1.
-- A deadline is judged at receipt (receive.lua): a submission received in time settles its receipt once
-- and takes the next slot while the batch is OPEN, whatever the clock. One never received in time, at
-- or after the deadline, takes no slot (excess or duplicate); with no receipt in flight it also expires
-- the batch (as the sweep would) and sees sealed 1 with state 'expired', and its caller completes it.
-- Closing (sealed or expired) removes every TTL of the batch's keys: they live until DONE.

local b = els_batch(KEYS, ARGV[1])
local now = els_clock(ARGV[4])
local m = els_take_fields(b, ARGV[2], ARGV[3])
if not m then
  return els_park(b, ARGV[2], {k = 'claim', h = ARGV[3], t = now}, tonumber(ARGV[5]), tonumber(ARGV[6]))
end
return els_take(b, m, 'claim', ARGV[2], ARGV[3], nil, nil, now, now)

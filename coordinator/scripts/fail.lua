-- fail.lua: record a submission's final failure; it consumes the next slot so the batch can complete.
--
-- KEYS[1..4]  the batch layout (lib.lua)
-- ARGV[1] batch_id  [2] submission_id  [3] failure code  [4] detail  [5] now: '' (the server's clock) or a pinned ms
-- ARGV[6] pending ttl ms  [7] most entries parked per unknown batch
--
-- Reply: '<outcome>|<essay_id or empty>|<slot or -1>|<sealed 0|1>|<replayed 0|1>|<state or empty>|<code>|
-- <detail>' (code and detail as first recorded, for a failed slot; empty otherwise; detail may hold '|'),
-- outcome one of
--   failed | excess | assigned or duplicate (a replay: the first outcome wins) | pending | pending_full
--
-- Invariants: as claim.lua, the deadline and the TTLs included. A failure counts toward completion exactly
-- like an assignment, names the slot it consumed, and is idempotent per submission: a redelivery replays
-- the code and detail recorded first, whatever code and detail it brings.

local b = els_batch(KEYS, ARGV[1])
local now = els_clock(ARGV[5])
local m = els_take_fields(b, ARGV[2], nil)
if not m then
  return els_park(b, ARGV[2], {k = 'fail', c = ARGV[3], d = ARGV[4], t = now},
    tonumber(ARGV[6]), tonumber(ARGV[7]))
end
return els_take(b, m, 'fail', ARGV[2], nil, ARGV[3], ARGV[4], now, now)

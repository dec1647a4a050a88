-- cancel.lua: the owner ends an OPEN batch with no report; it takes no more uploads.
--
-- KEYS[1..4]  the batch layout (lib.lua)
-- ARGV[1] batch_id  [2] owner  [3] now_ms
--
-- Reply: {word, state|'', replayed 0|1, {missing essay ids}}, word one of
--   cancelled  this call cancelled the batch (replayed 0), or an earlier cancel did (replayed 1)
--   unknown    no such batch, or another owner's (answered alike)
--   not_open   the batch stopped taking slots another way (state says how): it gets its report
--
-- Invariants: OPEN -> CANCELLED happens once per batch, in this one step, so a cancel racing the last
-- claim, a close or the expiry sweep either wins or finds the batch closed another way. A cancelled
-- batch takes no slot (late settles record excess) and is never analysed: its completion mirrors the
-- cancel into SQL and moves it through finalizing to DONE with closed_as 'cancelled' and no report, so
-- it leaves every index and its keys get the retention TTL. It sits in the stuck index until then, so
-- the sweep re-kicks a completion that went missing.

local b = els_batch(KEYS, ARGV[1])
local m = redis.call('HMGET', b.hash, 'state', 'owner', 'expected', 'assigned', 'failed', 'closed_as')
local state = m[1]
if not state or m[2] ~= ARGV[2] then
  return {'unknown', '', 0, {}}
end
local replayed = 1
if state == 'open' then
  els_close(b, 'cancelled', ARGV[3])
  state, replayed = 'cancelled', 0
elseif m[6] ~= 'cancelled' then
  return {'not_open', state, 0, {}}
end
local consumed = tonumber(m[4]) + tonumber(m[5])
local missing = els_slot_range(b.hash, consumed, tonumber(m[3]) - 1)
return {'cancelled', state, replayed, missing}

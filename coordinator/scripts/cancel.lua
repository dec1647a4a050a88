-- cancel.lua: the owner ends an OPEN batch with no report; it takes no more uploads.
--
-- KEYS[1..4]  the batch layout (lib.lua)
-- ARGV[1] batch_id  [2] owner  [3] now: '' (the server's clock) or a pinned ms
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

return els_end_by_owner(KEYS, ARGV[1], ARGV[2], els_clock(ARGV[3]), 'cancelled')

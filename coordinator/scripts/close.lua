-- close.lua: the owner closes an OPEN batch now; it is sealed with the slots still missing named.
--
-- KEYS[1..4]  the batch layout (lib.lua)
-- ARGV[1] batch_id  [2] owner  [3] now: '' (the server's clock) or a pinned ms
--
-- Reply: {word, state|'', replayed 0|1, {missing essay ids}}, word one of
--   closed     this call closed the batch (replayed 0), or an earlier close did (replayed 1); missing
--              names the slots nobody consumed, the same on every replay
--   unknown    no such batch, or another owner's (answered alike)
--   not_open   the batch stopped taking slots another way (state says how)
--
-- Invariants: OPEN -> CLOSED happens once per batch, in this one step, so a close racing the last claim
-- or the expiry sweep either wins or finds the batch closed another way; exactly one caller sees
-- replayed 0 and dispatches its completion. Uploads received in time but not settled yet take no slot
-- after the close: they are recorded as excess. Closing removes every TTL of the batch's keys: they
-- live until DONE, like any closed batch.

return els_end_by_owner(KEYS, ARGV[1], ARGV[2], els_clock(ARGV[3]), 'closed')

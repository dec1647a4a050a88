-- gate.lua: what intake checks before it reads an upload (writes nothing): whose batch it is, its state,
-- and whether its deadline has passed by the server's clock, so an API host whose clock runs ahead
-- refuses no upload that is in time.
--
-- KEYS[1] the batch hash
-- ARGV[1] now: '' (the server's clock) or a pinned ms
--
-- Reply: {state or nil, owner, deadline_ms, late 0|1}; state nil: no such batch.
--
-- Cost: one HMGET, O(1) whatever the batch's size: every upload request asks. It only answers early;
-- receive.lua is the step that decides, atomically.

local m = redis.call('HMGET', KEYS[1], 'state', 'owner', 'deadline_ms')
if not m[1] then
  return {false, '', '', 0}
end
return {m[1], m[2], m[3], tonumber(els_clock(ARGV[1])) >= tonumber(m[3]) and 1 or 0}

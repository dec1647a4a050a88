-- list.lua: one page of a shard's not-DONE batches from its active or owners index, with summaries.
--
-- KEYS[1] the shard's active or owners index (a lexical ZSET, every score 0)
-- ARGV[1] shard key base  [2] lexical min (e.g. '-' or '(<member>')  [3] lexical max  [4] most members
--
-- Reply: {scanned, last member scanned|'', {batch_id, owner, state, expected, assigned, failed, excess,
--   created_ms, deadline_ms}, ...}; scanned < ARGV[4] means the range is exhausted.
--
-- Invariant: reads only the index range and each listed batch's fields (never SCAN or KEYS); members
-- whose batch is gone, DONE or a later batch of the same id are dropped from the index as they are met.

local base = ARGV[1]
local members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local reply = {#members, members[#members] or ''}
for _, member in ipairs(members) do
  local batch_id = els_member_batch_id(member)
  local m = redis.call('HMGET', els_batch_key(base, batch_id), 'owner', 'state', 'expected',
    'assigned', 'failed', 'excess', 'created_ms', 'deadline_ms', 'active_member', 'owner_member')
  -- A member of an earlier batch with the same id (its keys expired, the id was registered again) is stale.
  if not m[2] or m[2] == 'done' or (member ~= m[9] and member ~= m[10]) then
    redis.call('ZREM', KEYS[1], member)
  else
    table.insert(reply, {batch_id, m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]})
  end
end
return reply

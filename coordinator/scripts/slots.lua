-- slots.lua: one page of a batch's slots, in slot order, each with how it was consumed (writes nothing).
--
-- KEYS[1] the batch hash
-- ARGV[1] the first slot index of the page (0-based, >= 0)  [2] most slots on the page (1..1000)
--
-- Reply: false when the batch does not exist, else {owner, state, expected, consumed (assigned + failed),
--   {essay ids of slots ARGV[1].. in slot order}, {the record of each of those slots, false where not
--   consumed yet}}; the page is empty when ARGV[1] >= expected.
--
-- Invariant: reads at most ARGV[2] slots and their records, whatever the batch's size (the O(1) counts
-- come from HMGET, never from walking the slots); counts, slots and records are read at one instant, so
-- a slot at or past `consumed` has no record on the page.

local first, most = tonumber(ARGV[1]), tonumber(ARGV[2])
if not first or first < 0 or first % 1 ~= 0 or not most or most < 1 or most > 1000 or most % 1 ~= 0 then
  return redis.error_reply('ELS slots.lua: page bounds out of range')
end
local m = redis.call('HMGET', KEYS[1], 'owner', 'state', 'expected', 'assigned', 'failed', 'id', 'numbered')
if not m[2] then
  return false
end
local expected = tonumber(m[3])
local last = math.min(first + most, expected) - 1
local essays = els_essay_range(els_batch_at(KEYS[1], m[6], nil, nil), m[7], first, last)
local records = {}
if #essays > 0 then -- at most 1000 fields: one HMGET stays within Lua's unpack bound
  local fields = {}
  for slot = first, last do
    fields[#fields + 1] = slot
  end
  records = redis.call('HMGET', KEYS[1], unpack(fields))
end
return {m[1], m[2], expected, tonumber(m[4]) + tonumber(m[5]), essays, records}

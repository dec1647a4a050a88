-- status.lua: read everything live about one batch in one round trip (writes nothing).
--
-- KEYS[1] the batch hash
-- ARGV[1..] the meta fields to read
--
-- Reply: false when the batch does not exist, else {meta values in ARGV order, essay ids in slot
--   order, the record of each slot in the same order (false where not consumed yet)}.
--
-- Invariant: the parts are read at one instant, so counts, slots and records agree.

local expected = tonumber(redis.call('HGET', KEYS[1], 'expected'))
if not expected then
  return false
end
local meta = redis.call('HMGET', KEYS[1], unpack(ARGV))
local essays = els_slot_range(KEYS[1], 0, expected - 1)
local records = {}
for chunk = 1, #essays, 500 do -- HMGET in chunks: Lua's unpack is bounded by the C stack
  local fields = {}
  for i = chunk, math.min(chunk + 499, #essays) do
    fields[#fields + 1] = 'e:' .. essays[i]
  end
  for _, record in ipairs(redis.call('HMGET', KEYS[1], unpack(fields))) do
    records[#records + 1] = record
  end
end
return {meta, essays, records}

-- status.lua: read everything live about one batch in one round trip (writes nothing).
--
-- KEYS[1] the batch hash
-- ARGV[1..] the meta fields to read
--
-- Reply: false when the batch does not exist, else {meta values in ARGV order, essay ids in slot
--   order, the record of each consumed slot in slot order ('a|<submission>|<at>' or
--   'f|<submission>|<at>|<code>|<detail>')}.
--
-- Invariant: the parts are read at one instant, so counts, slots and records agree. Cost: O(slots), the
-- one script that reads every slot; pollers read `progress` (one HMGET) instead.

local m = redis.call('HMGET', KEYS[1], 'id', 'expected', 'numbered', 'assigned', 'failed')
if not m[1] then
  return false
end
local b = els_batch_at(KEYS[1], m[1], nil, nil)
local meta = redis.call('HMGET', KEYS[1], unpack(ARGV))
local essays = els_essay_range(b, m[3], 0, tonumber(m[2]) - 1)
local consumed = tonumber(m[4]) + tonumber(m[5])
local records = {}
for chunk = 0, consumed - 1, 500 do -- HMGET in chunks: Lua's unpack is bounded by the C stack
  local fields = {}
  for slot = chunk, math.min(chunk + 499, consumed - 1) do
    fields[#fields + 1] = slot
  end
  for _, record in ipairs(redis.call('HMGET', KEYS[1], unpack(fields))) do
    records[#records + 1] = record
  end
end
return {meta, essays, records}

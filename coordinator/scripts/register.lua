-- register.lua: create a batch in state OPEN with its ordered slots, then replay what was parked for it.
--
-- KEYS[1..4]  the batch layout (lib.lua)
-- KEYS[5]     the shard's active index       KEYS[6] the shard's owners index
-- ARGV[1] batch_id  [2] owner  [3] fingerprint  [4] deadline_ms  [5] now: '' (the server's clock) or a
-- pinned ms  [6] retention ms  [7] correlation_id  [8] metadata_json  [9] the slot count
-- ARGV[10..] the explicit essay ids, in slot order (none: the slots are numbered)
--
-- Reply: {'created', state, sealed 0|1, replayed pending count}
--      | {'replayed', state, 0, 0}          same fingerprint: a no-op success
--      | {'conflict', state, 0, 0}          same id, different request
--
-- Essay ids are not claimed here: SQL's essays table, written first, keeps every essay id unique
-- (EssayIdTakenError in db/batches.py). A batch registered by count stores no field per slot at all.
--
-- Invariants: a batch is created once and its slots never change; a replayed registration changes
-- nothing; every parked claim and failure is replayed in arrival order in the same step that creates
-- the batch (no window in which a new arrival could be parked and never replayed); `sealed` is 1 only
-- for the call whose replay filled the last slot; every key written carries the backstop TTL while the
-- batch is OPEN (a batch the replay closed keeps none, as after any close).

local b = els_batch(KEYS, ARGV[1])
local existing = redis.call('HMGET', b.hash, 'fingerprint', 'state')
if existing[1] then
  if existing[1] == ARGV[3] then
    return {'replayed', existing[2], 0, 0}
  end
  return {'conflict', existing[2], 0, 0}
end

local batch_id, owner, now, count = ARGV[1], ARGV[2], els_clock(ARGV[5]), tonumber(ARGV[9])
local numbered = #ARGV == 9 -- no explicit ids: slot i's essay is '<batch id>-<i+1, 3 digits or more>'
-- The backstop TTL bounds a batch that stays OPEN: its deadline, then the retention.
local ttl = math.max(tonumber(ARGV[4]) - tonumber(now), 0) + tonumber(ARGV[6])
-- Index members lead with the creation ms zero-padded to 15 digits, so lexical order is creation order.
local created = string.format('%015d', tonumber(now))
local active_member, owner_member = created .. '/' .. batch_id, owner .. '/' .. created .. '/' .. batch_id
redis.call('HSET', b.hash,
  'id', batch_id, 'state', 'open', 'owner', owner, 'fingerprint', ARGV[3],
  'expected', count, 'assigned', 0, 'failed', 0, 'excess', 0, 'duplicates', 0,
  'deadline_ms', ARGV[4], 'created_ms', now, 'state_ms', now,
  'correlation_id', ARGV[7], 'metadata_json', ARGV[8],
  'active_member', active_member, 'owner_member', owner_member)
if numbered then
  redis.call('HSET', b.hash, 'numbered', 1)
else
  for first = 1, count, 250 do -- HSET in chunks: Lua's unpack is bounded by the C stack
    local fields = {}
    for i = first, math.min(first + 249, count) do
      fields[#fields + 1] = 'i:' .. (i - 1)
      fields[#fields + 1] = ARGV[9 + i]
    end
    redis.call('HSET', b.hash, unpack(fields))
  end
end
redis.call('ZADD', b.deadlines, ARGV[4], batch_id)
redis.call('ZADD', KEYS[5], 0, active_member)
redis.call('ZADD', KEYS[6], 0, owner_member)

local parked = redis.call('HGETALL', b.pending)
local entries = {}
for i = 1, #parked, 2 do
  local entry = cjson.decode(parked[i + 1])
  entry.u = parked[i]
  entries[#entries + 1] = entry
end
table.sort(entries, function(x, y) return x.q < y.q end)
local sealed = false
for _, e in ipairs(entries) do
  local m = els_take_fields(b, e.u, e.h)
  local reply = els_take(b, m, e.k, e.u, e.h, e.c, e.d, e.t, now)
  if string.match(reply, '^[^|]*|[^|]*|[^|]*|1|') then
    sealed = true
  end
end
redis.call('DEL', b.pending)
redis.call('ZREM', els_parked_index(b), batch_id)

local state = redis.call('HGET', b.hash, 'state')
if state == 'open' then
  els_expire_batch(b, ttl)
end -- else a replay closed it, and closing removed every TTL: a closed batch lives until DONE
return {'created', state, sealed and 1 or 0, #entries}

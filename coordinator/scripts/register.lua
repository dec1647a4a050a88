-- register.lua: create a batch in state OPEN with its ordered slots, then replay what was parked for it.
--
-- KEYS[1..4]  the batch layout (lib.lua)
-- KEYS[5]     the shard's active index       KEYS[6] the shard's owners index
-- KEYS[7..]   the lookup entry of each essay, in slot order
-- ARGV[1] batch_id  [2] owner  [3] fingerprint  [4] deadline_ms  [5] now: '' (the server's clock) or a
-- pinned ms  [6] retention ms  [7] correlation_id  [8] metadata_json  [9] shard key base
-- ARGV[10..] the essay ids, in slot order
--
-- Reply: {'created', state, sealed 0|1, replayed pending count}
--      | {'replayed', state, 0, 0}          same fingerprint: a no-op success
--      | {'conflict', state, 0, 0}          same id, different request
--      | {'essay_taken', essay_id, 0, 0}    an essay id is registered in another live batch of the shard
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

local count = #ARGV - 9
for i = 1, count do
  if redis.call('EXISTS', KEYS[6 + i]) == 1 then
    return {'essay_taken', ARGV[9 + i], 0, 0}
  end
end

local batch_id, owner, now = ARGV[1], ARGV[2], els_clock(ARGV[5])
-- The backstop TTL bounds a batch that stays OPEN: its deadline, then the retention.
local ttl = math.max(tonumber(ARGV[4]) - tonumber(now), 0) + tonumber(ARGV[6])
-- Index members lead with the creation ms zero-padded (CREATED_WIDTH), so lexical order is creation order.
local created = string.format('%015d', tonumber(now))
local active_member, owner_member = created .. '/' .. batch_id, owner .. '/' .. created .. '/' .. batch_id
redis.call('HSET', b.hash,
  'id', batch_id, 'state', 'open', 'owner', owner, 'fingerprint', ARGV[3],
  'expected', count, 'assigned', 0, 'failed', 0, 'excess', 0, 'duplicates', 0,
  'deadline_ms', ARGV[4], 'created_ms', now, 'state_ms', now,
  'correlation_id', ARGV[7], 'metadata_json', ARGV[8],
  'active_member', active_member, 'owner_member', owner_member)
local location = batch_id .. '/' .. owner .. '/' .. now
for first = 1, count, 250 do -- HSET in chunks: Lua's unpack is bounded by the C stack
  local fields = {}
  for i = first, math.min(first + 249, count) do
    fields[#fields + 1] = 'i:' .. (i - 1)
    fields[#fields + 1] = ARGV[9 + i]
    redis.call('SET', KEYS[6 + i], location, 'PX', ttl)
  end
  redis.call('HSET', b.hash, unpack(fields))
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
  local reply = els_take(b, m, e.k, e.u, e.h, e.p, e.c, e.d, e.t, now)
  if string.match(reply, '^[^|]*|[^|]*|[^|]*|1|') then
    sealed = true
  end
end
redis.call('DEL', b.pending)
redis.call('ZREM', els_parked_index(b), batch_id)

local state = redis.call('HGET', b.hash, 'state')
if state == 'open' then
  els_expire_batch(b, ARGV[9], ttl)
end -- else a replay closed it, and closing removed every TTL: a closed batch lives until DONE
return {'created', state, sealed and 1 or 0, #entries}

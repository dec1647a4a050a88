-- lib.lua: logic more than one entry script needs, defined once. The Python loader prepends this file
-- to every entry script, so each script is still a single self-contained EVALSHA.
--
-- Every script that works on one batch takes the same KEYS layout (coordinator/keys.py, BatchKeys.layout):
--   KEYS[1] batch      HASH  everything about the batch, so one HMGET reads and one HSET writes a claim:
--                              meta fields: id, state, owner, fingerprint, expected, numbered, assigned,
--                                failed, excess, duplicates, deadline_ms, created_ms, state_ms, closed_as,
--                                closed_ms, token, correlation_id, metadata_json, active_member, owner_member
--                              '<slot>'            -> how slot <slot> (0-based, consumed in order) was
--                                consumed: 'a|<submission id>|<at ms>' or
--                                'f|<submission id>|<at ms>|<code>|<detail>' (detail is the only free text)
--                              'i:<slot>'          -> the slot's essay id, for explicit ids only; a batch
--                                registered by count ('numbered') derives '<batch id>-001'... instead
--                              's:<submission id>' -> its outcome, for replays: '<slot>' (assigned or
--                                failed: the slot's record says which), 'd<slot>' (a duplicate of the
--                                content holding that slot) or 'x' (excess)
--                              'h:<content digest>' -> the slot holding that content (22 characters of
--                                base64url, 128 bits of a digest of the caller's content hash)
--                              'r:<submission id>' -> receipt ms: received in time at intake (receive.lua),
--                                until its outcome is recorded
--                              'p:<submission id>' -> starts of its processing (attempt.lua), until then
--                              'inflight'          -> receipts whose claim or failure is not recorded yet
--                            Per claimed slot that is three short fields and nothing else: no key per
--                            essay, no per-slot work when the batch closes or expires.
--   KEYS[2] pending    HASH  submission id -> JSON parked claim or failure (batch not registered yet)
--   KEYS[3] deadlines  ZSET  the shard's OPEN batches by deadline ms
--   KEYS[4] stuck      ZSET  the shard's SEALED/EXPIRED/CLOSED/CANCELLED/FINALIZING batches by state-change ms
--
-- Times travel as decimal strings of epoch ms: Lua would print large numbers as %.14g.
-- Keys derived here (sweeps, lookup entries) carry the hash tag of the declared key they come from, so
-- they are in the same slot as the keys that routed the call.

-- The moment a script judges by: the server's own clock (TIME), so a caller whose clock runs ahead or
-- behind can neither close a batch before its deadline nor take over a finalizer whose lease is live.
-- Callers send '' for it; a test may pin a moment instead, as a decimal string of epoch ms.
local function els_clock(given)
  if given ~= '' then
    return given
  end
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end

local function els_batch(keys, batch_id)
  return {id = batch_id, hash = keys[1], pending = keys[2], deadlines = keys[3], stuck = keys[4]}
end

-- base is '<prefix>:{sNN}', the shard's key base (ShardKeys.base).
local function els_batch_key(base, batch_id)
  return base .. ':batch:' .. batch_id
end

local function els_pending_key(hash)
  return hash .. ':pending'
end

-- The batch of a script that was handed only its hash (or only the shard's base): the same shape as
-- els_batch, for the helpers below. deadlines and stuck are the shard's indexes, when the script has them.
local function els_batch_at(hash, batch_id, deadlines, stuck)
  return {id = batch_id, hash = hash, pending = els_pending_key(hash), deadlines = deadlines, stuck = stuck}
end

-- The essay id of slot `slot` (0-based): derived for a batch registered by count, kept for explicit ids.
local function els_essay_of(b, numbered, slot)
  if numbered then
    return b.id .. '-' .. string.format('%03d', slot + 1)
  end
  return redis.call('HGET', b.hash, 'i:' .. slot)
end

-- The essay ids of slots first..last (0-based, inclusive), in slot order.
local function els_essay_range(b, numbered, first, last)
  local essays = {}
  if numbered then
    for i = first, last do
      essays[#essays + 1] = b.id .. '-' .. string.format('%03d', i + 1)
    end
    return essays
  end
  for chunk = first, last, 500 do -- HMGET in chunks: Lua's unpack is bounded by the C stack
    local fields = {}
    for i = chunk, math.min(chunk + 499, last) do
      fields[#fields + 1] = 'i:' .. i
    end
    for _, essay_id in ipairs(redis.call('HMGET', b.hash, unpack(fields))) do
      essays[#essays + 1] = essay_id
    end
  end
  return essays
end

-- The shard's key base ('<prefix>:{sNN}') of a batch, from its hash key (els_batch_key in reverse).
local function els_base(b)
  return string.sub(b.hash, 1, #b.hash - #(':batch:' .. b.id))
end

-- Remove every TTL from the batch's keys: a batch that is not DONE must never expire (its finalization
-- may be late, its late arrivals still need their batch). The registration's backstop TTL only bounds
-- a batch that never closes; DONE sets the retention TTL. Two keys, whatever the batch's size.
local function els_persist_batch(b)
  redis.call('PERSIST', b.hash)
  redis.call('PERSIST', b.pending)
end

-- OPEN -> SEALED, EXPIRED, CLOSED or CANCELLED: the one place a batch closes (claim, fail,
-- registration's replay, the expiry sweep, close and cancel all come here). closed_ms keeps the
-- moment for the SQL record and events; state_ms moves on when finalizing begins.
local function els_close(b, state, now)
  redis.call('HSET', b.hash, 'state', state, 'closed_as', state, 'closed_ms', now, 'state_ms', now)
  redis.call('ZREM', b.deadlines, b.id)
  redis.call('ZADD', b.stuck, now, b.id)
  els_persist_batch(b)
end

-- OPEN -> SEALED once every slot is consumed. '>=' rather than '==': a count that somehow passed the
-- total still seals instead of leaving the batch open forever. Called only while the batch is OPEN, so
-- the batch seals exactly once and exactly one caller sees true.
local function els_seal_if_full(b, expected, consumed, now)
  if consumed >= expected then
    els_close(b, 'sealed', now)
    return true
  end
  return false
end

-- The reply of claim and fail, one string (cheaper to build, send and parse than an array):
-- '<outcome>|<essay_id or empty>|<slot or -1>|<sealed 0|1>|<replayed 0|1>|<state or empty>|<code>|<detail>',
-- code and detail those Redis recorded for a failed slot (empty otherwise); detail is the last part, the
-- only one that may contain '|'.
local function els_reply(outcome, essay_id, slot, sealed, replayed, state, code, detail)
  return outcome .. '|' .. (essay_id or '') .. '|' .. (slot or -1) .. '|' .. (sealed and '1' or '0') .. '|'
    .. (replayed and '1' or '0') .. '|' .. (state or '') .. '|' .. (code or '') .. '|' .. (detail or '')
end

-- The shard's index of batches with parked entries, scored by when their pending hash expires (the
-- operations gauge counts from it; registration removes its batch, parking drops the lapsed).
local function els_parked_index(b)
  return els_base(b) .. ':parked'
end

-- Park a claim or failure for a batch that is not registered yet; registration replays it. Idempotent
-- per submission; at most `cap` entries so an unknown batch id cannot grow without bound.
local function els_park(b, submission_id, entry, ttl_ms, cap)
  if redis.call('HEXISTS', b.pending, submission_id) == 1 then
    return els_reply('pending', nil, nil, false, true, nil)
  end
  local parked = redis.call('HLEN', b.pending)
  if parked >= cap then
    return els_reply('pending_full', nil, nil, false, false, nil)
  end
  entry.q = parked + 1 -- arrival order, so the replay is deterministic
  redis.call('HSET', b.pending, submission_id, cjson.encode(entry))
  redis.call('PEXPIRE', b.pending, ttl_ms)
  local index = els_parked_index(b)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', entry.t) -- each lapsed entry is dropped once
  redis.call('ZADD', index, tonumber(entry.t) + ttl_ms, b.id)
  return els_reply('pending', nil, nil, false, false, nil)
end

-- The one slot-consuming step behind claim, fail and registration's replay of parked entries.
-- kind is 'claim' (content digest) or 'fail' (code, detail); m is what els_take_fields read (state,
-- expected, assigned, failed, the submission's outcome, the content's holder, deadline, the
-- submission's receipt, inflight receipts, numbered).
-- Order: a recorded submission replays its first outcome. A deadline is judged at receipt: a
-- submission received in time (receive.lua) settles its receipt here, once, and takes the next slot
-- while the batch is OPEN, whatever the clock. One with no receipt in time, at or after the deadline,
-- takes no slot; it closes the OPEN batch as EXPIRED (the sweep would have; this caller is the one told
-- to complete it) unless in-time receipts are still in flight, whose expiry the sweep holds (expire.lua).
-- Then: content already holding a slot is a DUPLICATE; a batch that is not OPEN, or an arrival past
-- the deadline, records EXCESS; otherwise the next slot in order is consumed.
local function els_take(b, m, kind, submission_id, digest, code, detail, at, now)
  local state, recorded, holder, numbered = m[1], m[5], m[6], m[10]
  local sub_field = 's:' .. submission_id
  if recorded then
    if recorded == 'x' then
      return els_reply('excess', nil, nil, false, true, state)
    end
    local first = string.match(recorded, '^d(%d+)$')
    if first then
      return els_reply('duplicate', els_essay_of(b, numbered, tonumber(first)), nil, false, true, state)
    end
    local slot = tonumber(recorded)
    local record = redis.call('HGET', b.hash, recorded)
    if string.sub(record, 1, 1) == 'a' then
      return els_reply('assigned', els_essay_of(b, numbered, slot), slot, false, true, state)
    end
    -- the code and detail of the first failure, whatever this attempt says
    local first_code, first_detail = string.match(record, '^f|[^|]*|[^|]*|([^|]*)|(.*)$')
    return els_reply('failed', els_essay_of(b, numbered, slot), slot, false, true, state, first_code, first_detail)
  end
  -- From here on this call records the submission's first outcome (every branch writes sub_field).
  local deadline, received, inflight = tonumber(m[7]), m[8], tonumber(m[9] or '0')
  if received then -- its receipt is settled now, exactly once; the outcome answers every repeat
    inflight = redis.call('HINCRBY', b.hash, 'inflight', -1)
  end
  redis.call('HDEL', b.hash, 'r:' .. submission_id, 'p:' .. submission_id) -- done with: receipt, starts
  local in_time = received and tonumber(received) < deadline
  local past = deadline <= tonumber(now)
  local late = state == 'open' and not in_time and past
  local closed = false
  if late and inflight <= 0 then
    els_close(b, 'expired', now)
    state, closed = 'expired', true
  end
  -- The last upload received in time settling after the deadline: nothing is left to wait for, so the
  -- batch expires in this same step (once this upload is recorded), not at the next sweep.
  local expire_after = state == 'open' and in_time and past and inflight <= 0
  if kind == 'claim' and holder then
    redis.call('HSET', b.hash, sub_field, 'd' .. holder)
    redis.call('HINCRBY', b.hash, 'duplicates', 1)
    if expire_after then
      els_close(b, 'expired', now)
      state, closed = 'expired', true
    end
    return els_reply('duplicate', els_essay_of(b, numbered, tonumber(holder)), nil, closed, false, state)
  end
  if state ~= 'open' or late then
    redis.call('HSET', b.hash, sub_field, 'x')
    redis.call('HINCRBY', b.hash, 'excess', 1)
    return els_reply('excess', nil, nil, closed, false, state)
  end
  local expected, assigned, failed = tonumber(m[2]), tonumber(m[3]), tonumber(m[4])
  local slot = assigned + failed -- slots are consumed strictly in order
  local essay_id = els_essay_of(b, numbered, slot)
  if slot >= expected or not essay_id then
    error('ELS invariant broken: batch ' .. b.id .. ' is open with no slot ' .. slot)
  end
  local outcome = kind == 'claim' and 'assigned' or 'failed'
  if kind == 'claim' then
    assigned = assigned + 1
    redis.call('HSET', b.hash, 'assigned', assigned, sub_field, slot, 'h:' .. digest, slot,
      slot, 'a|' .. submission_id .. '|' .. at)
  else
    failed = failed + 1
    redis.call('HSET', b.hash, 'failed', failed, sub_field, slot,
      slot, 'f|' .. submission_id .. '|' .. at .. '|' .. code .. '|' .. detail)
  end
  local sealed = els_seal_if_full(b, expected, assigned + failed, now)
  if not sealed and expire_after then
    els_close(b, 'expired', now)
    return els_reply(outcome, essay_id, slot, true, false, 'expired', code, detail)
  end
  return els_reply(outcome, essay_id, slot, sealed, false, sealed and 'sealed' or 'open', code, detail)
end

-- Read what els_take needs in one HMGET; nil when the batch does not exist.
local function els_take_fields(b, submission_id, digest)
  local m = redis.call('HMGET', b.hash, 'state', 'expected', 'assigned', 'failed',
    's:' .. submission_id, 'h:' .. (digest or ''), 'deadline_ms', 'r:' .. submission_id, 'inflight',
    'numbered')
  if not m[1] then
    return nil
  end
  return m
end

-- Give the batch's keys the same TTL.
local function els_expire_batch(b, ttl_ms)
  redis.call('PEXPIRE', b.hash, ttl_ms)
  redis.call('PEXPIRE', b.pending, ttl_ms)
end

-- The batch id after the last '/' of an index member ('<created>/<id>' or '<owner>/<created>/<id>').
local function els_member_batch_id(member)
  return string.match(member, '([^/]+)$')
end

-- The owner ends an OPEN batch as `target` ('closed' or 'cancelled'): close.lua and cancel.lua.
-- Reply: {target, state|'', replayed 0|1, {missing essay ids}}; {'unknown', '', 0, {}} for no such batch
-- or another owner's (answered alike); {'not_open', state, 0, {}} when it stopped taking slots another
-- way. A replay of the same end answers the same missing slots with replayed 1.
local function els_end_by_owner(keys, batch_id, owner, now, target)
  local b = els_batch(keys, batch_id)
  local m = redis.call('HMGET', b.hash, 'state', 'owner', 'expected', 'assigned', 'failed', 'closed_as',
    'numbered')
  local state = m[1]
  if not state or m[2] ~= owner then
    return {'unknown', '', 0, {}}
  end
  local replayed = 1
  if state == 'open' then
    els_close(b, target, now)
    state, replayed = target, 0
  elseif m[6] ~= target then
    return {'not_open', state, 0, {}}
  end
  local consumed = tonumber(m[4]) + tonumber(m[5])
  return {target, state, replayed, els_essay_range(b, m[7], consumed, tonumber(m[3]) - 1)}
end

-- Entry script follows.

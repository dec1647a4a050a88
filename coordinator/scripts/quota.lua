-- quota.lua: one owner's quotas, checked and taken in one step (a standalone script, no lib.lua).
--
-- KEYS (all carry the owner's hash tag {q:<owner>}, so the script touches one slot):
--   1 open   ZSET  batch id -> deadline ms, the owner's batches whose deadline has not passed
--   2 slots  HASH  batch id -> slot count of each batch in `open`
--   3 day    HASH  uploads, bytes: what the owner sent on one UTC day (the day is in the key's name)
-- ARGV[1] is the operation, ARGV[2] now ms; the rest depends on the operation:
--   batch   3 batch id, 4 deadline ms, 5 slots, 6 max open batches, 7 max open slots (0 = no limit)
--   release 3 batch id
--   uploads 3 count, 4 bytes, 5 max uploads, 6 max bytes (0 = no limit), 7 ms until the day ends
-- Reply: { verdict, quota, retry_after_ms }, verdict one of reserved | held | released | exceeded;
--   quota names the exhausted quota (open_batches, open_slots, uploads_per_day, upload_bytes_per_day)
--   or is ""; retry_after_ms is when a retry may pass (0 unless exceeded).

local open, slots, day = KEYS[1], KEYS[2], KEYS[3]
local op = ARGV[1]
local now = tonumber(ARGV[2])

-- Forget batches whose deadline has passed (a bounded amount per call; the rest goes next time).
local function prune()
  local gone = redis.call('ZRANGEBYSCORE', open, '-inf', now, 'LIMIT', 0, 100)
  for _, batch in ipairs(gone) do
    redis.call('ZREM', open, batch)
    redis.call('HDEL', slots, batch)
  end
end

local function earliest_deadline_wait()
  local first = redis.call('ZRANGE', open, 0, 0, 'WITHSCORES')
  if #first < 2 then return 1000 end
  return math.max(1000, tonumber(first[2]) - now)
end

if op == 'batch' then
  local batch = ARGV[3]
  local deadline = tonumber(ARGV[4])
  local wanted = tonumber(ARGV[5])
  local max_batches = tonumber(ARGV[6])
  local max_slots = tonumber(ARGV[7])
  prune()
  if redis.call('ZSCORE', open, batch) then
    return { 'held', '', 0 }
  end
  if max_batches > 0 and redis.call('ZCARD', open) + 1 > max_batches then
    return { 'exceeded', 'open_batches', earliest_deadline_wait() }
  end
  if max_slots > 0 then
    local total = wanted
    for _, count in ipairs(redis.call('HVALS', slots)) do total = total + tonumber(count) end
    if total > max_slots then
      return { 'exceeded', 'open_slots', earliest_deadline_wait() }
    end
  end
  redis.call('ZADD', open, deadline, batch)
  redis.call('HSET', slots, batch, wanted)
  -- Both keys outlive the latest deadline they hold, and no more.
  local keep = math.max(redis.call('PTTL', open), deadline - now + 60000)
  redis.call('PEXPIRE', open, keep)
  redis.call('PEXPIRE', slots, keep)
  return { 'reserved', '', 0 }
end

if op == 'release' then
  redis.call('ZREM', open, ARGV[3])
  redis.call('HDEL', slots, ARGV[3])
  return { 'released', '', 0 }
end

if op == 'uploads' then
  local count = tonumber(ARGV[3])
  local bytes = tonumber(ARGV[4])
  local max_uploads = tonumber(ARGV[5])
  local max_bytes = tonumber(ARGV[6])
  local day_left = tonumber(ARGV[7])
  local sent = tonumber(redis.call('HGET', day, 'uploads') or '0')
  local sent_bytes = tonumber(redis.call('HGET', day, 'bytes') or '0')
  if max_uploads > 0 and sent + count > max_uploads then
    return { 'exceeded', 'uploads_per_day', day_left }
  end
  if max_bytes > 0 and sent_bytes + bytes > max_bytes then
    return { 'exceeded', 'upload_bytes_per_day', day_left }
  end
  redis.call('HINCRBY', day, 'uploads', count)
  redis.call('HINCRBY', day, 'bytes', bytes)
  redis.call('PEXPIRE', day, day_left + 3600000)
  return { 'reserved', '', 0 }
end

return redis.error_reply('quota.lua: unknown operation ' .. tostring(op))

-- attempt.lua: count one more start of a submission's processing, before the work it counts.
--
-- KEYS[1] the batch hash
-- ARGV[1] submission_id
--
-- Reply: the number of starts so far, this one included; 0 when the submission's outcome is recorded
--   already (a redelivery after the claim: nothing left to guard); -1 when the batch is not in Redis.
--
-- Invariant: a delivery whose worker dies mid-processing has been counted, so an upload that kills
-- every worker that reads it is failed after `max_processing_attempts` instead of being redelivered
-- forever. The count ('p:<submission>') is dropped with the receipt when the first outcome is recorded
-- (els_take), so a settled submission keeps no field for it.

if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if redis.call('HEXISTS', KEYS[1], 's:' .. ARGV[1]) == 1 then
  return 0
end
return redis.call('HINCRBY', KEYS[1], 'p:' .. ARGV[1], 1)

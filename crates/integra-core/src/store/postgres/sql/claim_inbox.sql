-- Claims for owner $1 (lease until $2) up to $5 received messages of the channels in the
-- JSON array $4 (all when NULL) but not in the JSON array $6, oldest first: new ones due by
-- $3, and ones whose handler's lease expired. Per (sender, channel) in arrival order: a
-- message waits while an earlier one is unfinished. Counts the attempt. Returns id, uuid,
-- sender, channel, body, attempts.
--
-- Picked and locked first (FOR UPDATE SKIP LOCKED), then updated: nothing is claimed twice.
-- The order rule waits only on earlier rows, so it holds at READ COMMITTED provided the
-- messages of one (sender, channel) are stored in id order (the storing transaction takes
-- lock_ordering_key first).
WITH picked AS (
    SELECT i.id FROM exchange_inbox AS i
    WHERE ((i.status = 'new' AND i.next_attempt_at <= $3)
           OR (i.status = 'in_progress' AND i.lease_until < $3))
      AND ($4::text IS NULL
           OR i.channel = ANY (ARRAY(SELECT json_array_elements_text($4::text::json))))
      AND i.channel <> ALL (ARRAY(SELECT json_array_elements_text($6::text::json)))
      AND NOT EXISTS (
          SELECT 1 FROM exchange_inbox AS p
          WHERE p.sender = i.sender AND p.channel = i.channel AND p.id < i.id
            AND p.status IN ('new', 'in_progress'))
    ORDER BY i.id
    LIMIT $5
    FOR UPDATE OF i SKIP LOCKED
)
UPDATE exchange_inbox AS t
SET status = 'in_progress', attempts = t.attempts + 1, lease_owner = $1, lease_until = $2,
    updated_at = $3
FROM picked
WHERE t.id = picked.id
RETURNING t.id, t.uuid, t.sender, t.channel, t.body, t.attempts

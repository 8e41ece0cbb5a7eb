-- Claims for owner $1 (lease until $2) up to $5 messages of the flows in the JSON array $4
-- that are due for forming at $3, counting the attempt now. Returns id, uuid, flow, source,
-- object key, attempts.
--
-- Picked and locked first (FOR UPDATE SKIP LOCKED), then updated: nothing is claimed twice
-- by concurrent processes. Fewer than $5 rows does not mean nothing more is due.
WITH picked AS (
    SELECT id FROM message
    WHERE status IN ('new', 'forming_error') AND next_attempt_at <= $3
      AND flow = ANY (ARRAY(SELECT json_array_elements_text($4::text::json)))
    ORDER BY next_attempt_at, id
    LIMIT $5
    FOR UPDATE SKIP LOCKED
)
UPDATE message AS t
SET status = 'forming', attempts = t.attempts + 1, lease_owner = $1, lease_until = $2,
    updated_at = $3
FROM picked
WHERE t.id = picked.id
RETURNING t.id, t.uuid, t.flow, t.source, t.object_key, t.attempts

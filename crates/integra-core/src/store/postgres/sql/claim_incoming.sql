-- Claims for owner $1 (lease until $2) up to $5 incoming messages of the flows in the JSON
-- array $4 due at $3, counting the attempt now. A message with an ordering key waits while
-- an earlier one of the same flow and key is unfinished. Returns id, uuid, flow, message
-- id, payload, content type, headers, attempts.
--
-- Picked and locked first (FOR UPDATE SKIP LOCKED), then updated: nothing is claimed twice.
-- The order rule waits only on earlier rows, so it holds at READ COMMITTED provided
-- messages with the same (flow, key) are stored in id order (the storing transaction takes
-- lock_ordering_key first).
WITH picked AS (
    SELECT i.id FROM incoming AS i
    WHERE i.status IN ('new', 'error') AND i.next_attempt_at <= $3
      AND i.flow = ANY (ARRAY(SELECT json_array_elements_text($4::text::json)))
      AND (i.ordering_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM incoming AS p
          WHERE p.flow = i.flow AND p.ordering_key = i.ordering_key AND p.id < i.id
            AND p.status IN ('new', 'in_progress', 'error', 'dead')))
    ORDER BY i.next_attempt_at, i.id
    LIMIT $5
    FOR UPDATE OF i SKIP LOCKED
)
UPDATE incoming AS t
SET status = 'in_progress', attempts = t.attempts + 1, lease_owner = $1, lease_until = $2,
    updated_at = $3
FROM picked
WHERE t.id = picked.id
RETURNING t.id, t.uuid, t.flow, t.message_id, t.payload, t.content_type, t.headers,
          t.attempts

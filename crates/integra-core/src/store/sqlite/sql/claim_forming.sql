-- Claims up to ?5 messages of the flows in the JSON array ?4 that are due for forming,
-- counting the attempt now.
UPDATE message
SET status = 'forming', attempts = attempts + 1, lease_owner = ?1, lease_until = ?2,
    updated_at = ?3
WHERE id IN (
    SELECT id FROM message
    WHERE status IN ('new', 'forming_error') AND next_attempt_at <= ?3
      AND flow IN (SELECT value FROM json_each(?4))
    ORDER BY next_attempt_at, id
    LIMIT ?5 + 0)
RETURNING id, uuid, flow, source, object_key, attempts

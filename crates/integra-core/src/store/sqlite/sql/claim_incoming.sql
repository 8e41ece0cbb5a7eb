-- Claims up to ?5 due incoming messages of the flows in the JSON array ?4, counting the
-- attempt now. A message with an ordering key waits while an earlier one of the same flow and
-- key is unfinished.
UPDATE incoming
SET status = 'in_progress', attempts = attempts + 1, lease_owner = ?1, lease_until = ?2,
    updated_at = ?3
WHERE id IN (
    SELECT i.id FROM incoming AS i
    WHERE i.status IN ('new', 'error') AND i.next_attempt_at <= ?3
      AND i.flow IN (SELECT value FROM json_each(?4))
      AND (i.ordering_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM incoming AS p
          WHERE p.flow = i.flow AND p.ordering_key = i.ordering_key AND p.id < i.id
            AND (p.status = 'new' OR p.status = 'in_progress' OR p.status = 'error'
                 OR p.status = 'dead')))
    ORDER BY i.next_attempt_at, i.id
    LIMIT ?5 + 0)
RETURNING id, uuid, flow, message_id, payload, content_type, headers, attempts

-- Claims up to ?5 due deliveries to the subscribers in the JSON array ?4 (those this process
-- can deliver to), counting the attempt now. A delivery with an
-- ordering key waits while an earlier message with the same key is unfinished for the same
-- subscriber, or not yet fanned out.
UPDATE delivery
SET status = 'in_progress', attempts = attempts + 1, lease_owner = ?1, lease_until = ?2,
    updated_at = ?3
WHERE id IN (
    SELECT d.id FROM delivery AS d
    WHERE d.status IN ('new', 'send_error') AND d.next_attempt_at <= ?3
      AND d.subscriber IN (SELECT value FROM json_each(?4))
      AND (d.ordering_key IS NULL OR (
          NOT EXISTS (
              SELECT 1 FROM delivery AS p
              WHERE p.subscriber = d.subscriber AND p.ordering_key = d.ordering_key
                AND p.message_id < d.message_id
                AND (p.status = 'new' OR p.status = 'in_progress' OR p.status = 'send_error'
                     OR p.status = 'dead'))
          AND NOT EXISTS (
              SELECT 1 FROM message AS m
              WHERE m.flow = d.flow AND m.ordering_key = d.ordering_key AND m.id < d.message_id
                AND (m.status = 'new' OR m.status = 'forming' OR m.status = 'forming_error'
                     OR m.status = 'ready' OR m.status = 'dead'))))
    ORDER BY d.next_attempt_at, d.id
    LIMIT ?5 + 0)
RETURNING id, message_id, subscriber, attempts

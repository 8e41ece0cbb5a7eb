-- Messages matching every filter that is not NULL, newest first, before sequence number $7,
-- at most $8. $1 flow, $2 message status, $3 subscriber, $4 delivery status, $5/$6 created
-- from/to. The payload column is NULL until the message is formed.
SELECT id, uuid, flow, status, object_key, ordering_key, allow_duplicate, source,
       CASE WHEN status IN ('new', 'forming', 'forming_error', 'dead', 'cancelled') THEN payload
            ELSE coalesce(payload, source) END AS payload,
       attempts, next_attempt_at, not_before, last_error, created_at, updated_at
FROM message AS m
WHERE ($1::text IS NULL OR m.flow = $1)
  AND ($2::text IS NULL OR m.status = $2)
  AND ($3::text IS NULL AND $4::text IS NULL OR EXISTS (
      SELECT 1 FROM delivery AS d
      WHERE d.message_id = m.id AND ($3::text IS NULL OR d.subscriber = $3)
        AND ($4::text IS NULL OR d.status = $4)))
  AND ($5::bigint IS NULL OR m.created_at >= $5)
  AND ($6::bigint IS NULL OR m.created_at < $6)
  AND ($7::bigint IS NULL OR m.id < $7)
ORDER BY m.id DESC
LIMIT $8

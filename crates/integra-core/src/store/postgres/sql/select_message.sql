-- Message $1 (its uuid) as stored. The payload column is NULL until the message is formed.
SELECT id, uuid, flow, status, object_key, ordering_key, allow_duplicate, source,
       CASE WHEN status IN ('new', 'forming', 'forming_error', 'dead', 'cancelled') THEN payload
            ELSE coalesce(payload, source) END AS payload,
       attempts, next_attempt_at, not_before, last_error, created_at, updated_at
FROM message WHERE uuid = $1

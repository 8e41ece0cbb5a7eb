-- Incoming message $1 (its uuid) as stored.
SELECT id, uuid, flow, message_id, status, payload, content_type, headers, attempts,
       next_attempt_at, last_error, created_at, updated_at
FROM incoming WHERE uuid = $1

INSERT INTO incoming (uuid, flow, message_id, status, payload, content_type, headers,
                      ordering_key, next_attempt_at, created_at, updated_at)
VALUES (?1, ?2, ?3, 'new', ?4, ?5, ?6, ?7, ?8, ?8, ?8)
ON CONFLICT (flow, message_id) DO NOTHING
RETURNING id

INSERT INTO delivery (message_id, subscriber, flow, ordering_key, status, next_attempt_at,
                      created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)

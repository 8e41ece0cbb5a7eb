INSERT INTO message (uuid, flow, status, object_key, ordering_key, allow_duplicate, source,
                     next_attempt_at, not_before, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
RETURNING id

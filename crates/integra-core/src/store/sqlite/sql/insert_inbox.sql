-- Stores message ?1 from ?2 unless it is stored already (status ?5, error ?7); returns its
-- row id when new.
INSERT INTO exchange_inbox
    (uuid, sender, channel, body, status, last_error, next_attempt_at, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?7, ?6, ?6, ?6)
ON CONFLICT (sender, uuid) DO NOTHING
RETURNING id

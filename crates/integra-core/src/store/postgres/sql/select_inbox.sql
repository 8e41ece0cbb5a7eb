-- Received messages in status $1 (any when NULL), oldest first, at most $2: id, uuid,
-- sender, channel, body, status, attempts, last error, created, updated.
SELECT id, uuid, sender, channel, body, status, attempts, last_error, created_at, updated_at
FROM exchange_inbox WHERE $1::text IS NULL OR status = $1 ORDER BY id LIMIT $2

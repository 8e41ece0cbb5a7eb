-- Sent messages in status $1 (any when NULL), oldest first, at most $2: uuid, kind, channel,
-- recipient, quick (0/1), status, attempts, last error, created, updated.
SELECT uuid, kind, channel, recipient, quick, status, attempts, last_error, created_at, updated_at
FROM exchange_outbox WHERE $1::text IS NULL OR status = $1 ORDER BY id LIMIT $2

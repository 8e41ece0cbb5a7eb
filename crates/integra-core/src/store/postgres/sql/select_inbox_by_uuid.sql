-- Received message $1 (its uuid): id, uuid, sender, channel, body, status, attempts, last
-- error, created, updated.
SELECT id, uuid, sender, channel, body, status, attempts, last_error, created_at, updated_at
FROM exchange_inbox WHERE uuid = $1

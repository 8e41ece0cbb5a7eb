-- Stores the formed payload $2 (NULL: the source is the payload) and its hash $3 of message
-- $1 being formed, and moves it to Ready, at $4.
UPDATE message
SET status = 'ready', payload = $2, payload_hash = $3, lease_owner = NULL, lease_until = NULL,
    last_error = NULL, updated_at = $4
WHERE id = $1 AND status = 'forming'

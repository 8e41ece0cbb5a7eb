-- The recipient $2 processed message $1 (noted at $3).
UPDATE exchange_outbox
SET status = 'done', lease_owner = NULL, lease_until = NULL, updated_at = $3
WHERE uuid = $1 AND recipient = $2 AND status <> 'done'

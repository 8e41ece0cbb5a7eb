-- Removes up to $2 sent exchange messages the recipient processed before $1.
DELETE FROM exchange_outbox WHERE id IN (
    SELECT id FROM exchange_outbox WHERE status = 'done' AND updated_at < $1 LIMIT $2)

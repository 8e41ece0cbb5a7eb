-- Up to $2 exchange messages whose delivery lease ended by $1: id, recipient, attempts.
SELECT id, recipient, attempts FROM exchange_outbox
WHERE status = 'sending' AND lease_until <= $1
LIMIT $2

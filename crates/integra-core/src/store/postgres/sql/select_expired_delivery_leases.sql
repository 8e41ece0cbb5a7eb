-- Up to $2 deliveries whose lease ended by $1: id, subscriber, attempts.
SELECT id, subscriber, attempts FROM delivery
WHERE status = 'in_progress' AND lease_until <= $1
LIMIT $2

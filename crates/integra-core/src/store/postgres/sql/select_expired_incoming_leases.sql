-- Up to $2 incoming messages whose lease ended by $1: id, flow, attempts.
SELECT id, flow, attempts FROM incoming
WHERE status = 'in_progress' AND lease_until <= $1
LIMIT $2

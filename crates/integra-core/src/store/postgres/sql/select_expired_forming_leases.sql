-- Up to $2 messages being formed whose lease ended by $1: id, flow, attempts.
SELECT id, flow, attempts FROM message
WHERE status = 'forming' AND lease_until <= $1
LIMIT $2

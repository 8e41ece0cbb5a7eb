-- Up to $2 received exchange messages whose handler's lease ended by $1: id, channel,
-- attempts.
SELECT id, channel, attempts FROM exchange_inbox
WHERE status = 'in_progress' AND lease_until <= $1
LIMIT $2

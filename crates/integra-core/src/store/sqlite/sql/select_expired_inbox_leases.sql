SELECT id, channel, attempts FROM exchange_inbox
WHERE status = 'in_progress' AND lease_until <= ?1
LIMIT ?2 + 0

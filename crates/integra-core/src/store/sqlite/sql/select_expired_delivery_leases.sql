SELECT id, subscriber, attempts FROM delivery
WHERE status = 'in_progress' AND lease_until <= ?1
LIMIT ?2 + 0

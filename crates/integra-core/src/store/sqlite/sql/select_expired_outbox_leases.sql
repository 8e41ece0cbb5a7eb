SELECT id, recipient, attempts FROM exchange_outbox
WHERE status = 'sending' AND lease_until <= ?1
LIMIT ?2 + 0

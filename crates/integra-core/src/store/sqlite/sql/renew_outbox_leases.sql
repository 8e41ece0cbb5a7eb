UPDATE exchange_outbox SET lease_until = ?2 WHERE status = 'sending' AND lease_owner = ?1

-- Extends to $2 the leases owner $1 holds on exchange messages being delivered.
UPDATE exchange_outbox SET lease_until = $2 WHERE status = 'sending' AND lease_owner = $1

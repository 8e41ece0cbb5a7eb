-- Extends to $2 the leases owner $1 holds on received exchange messages.
UPDATE exchange_inbox SET lease_until = $2 WHERE status = 'in_progress' AND lease_owner = $1

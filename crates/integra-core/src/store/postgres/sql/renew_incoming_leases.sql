-- Extends to $2 the leases owner $1 holds on incoming messages.
UPDATE incoming SET lease_until = $2 WHERE status = 'in_progress' AND lease_owner = $1

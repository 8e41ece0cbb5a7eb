-- Extends to $2 the leases owner $1 holds on messages being formed.
UPDATE message SET lease_until = $2 WHERE status = 'forming' AND lease_owner = $1

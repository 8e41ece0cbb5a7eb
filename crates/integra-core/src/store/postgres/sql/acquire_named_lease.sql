-- Takes lease $1 for owner $2 until $3 when it is free, expired (before $4) or ours.
-- Returns a row (the name) when the lease is ours.
INSERT INTO named_lease (name, owner, lease_until) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
WHERE named_lease.owner = excluded.owner OR named_lease.lease_until < $4
RETURNING name

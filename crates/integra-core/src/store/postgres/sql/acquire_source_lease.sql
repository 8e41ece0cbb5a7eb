-- Takes or extends the lease on flow $1's source for owner $2 until $3, when it is free,
-- expired (before $4) or already ours. Returns a row when the lease is ours.
INSERT INTO source_lease (flow, owner, lease_until, updated_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (flow) DO UPDATE
SET owner = excluded.owner, lease_until = excluded.lease_until,
    last_error = CASE WHEN source_lease.owner = excluded.owner THEN source_lease.last_error END,
    updated_at = excluded.updated_at
WHERE source_lease.owner = excluded.owner OR source_lease.lease_until < excluded.updated_at
RETURNING flow

-- Records the outcome of delivering outbox message $1: status $3, error $4, next attempt at
-- $5 (kept when NULL), at $6; with $2 not NULL, only while owner $2 holds its lease.
UPDATE exchange_outbox
SET status = $3, last_error = $4, next_attempt_at = coalesce($5::bigint, next_attempt_at),
    lease_owner = NULL, lease_until = NULL, updated_at = $6
WHERE id = $1 AND status = 'sending' AND ($2::text IS NULL OR lease_owner = $2)

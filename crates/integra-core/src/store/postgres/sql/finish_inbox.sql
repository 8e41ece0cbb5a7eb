-- Moves received message $1 from in progress to $2 (with error $3, at $4; handled again
-- from $6 when it is new again, the due time kept when NULL); with $5 not NULL, only while
-- owner $5 holds its lease.
UPDATE exchange_inbox
SET status = $2, last_error = $3, next_attempt_at = coalesce($6::bigint, next_attempt_at),
    lease_owner = NULL, lease_until = NULL, updated_at = $4
WHERE id = $1 AND status = 'in_progress' AND ($5::text IS NULL OR lease_owner = $5)

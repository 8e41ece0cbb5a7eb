-- Moves incoming message $1 from status $2 to $3 (clearing any lease), with error $4, at $6;
-- $5 sets the next attempt time when not NULL. With $7 not NULL, only while owner $7 holds
-- its lease.
UPDATE incoming
SET status = $3, last_error = $4, next_attempt_at = coalesce($5::bigint, next_attempt_at),
    lease_owner = NULL, lease_until = NULL, updated_at = $6
WHERE id = $1 AND status = $2 AND ($7::text IS NULL OR lease_owner = $7)

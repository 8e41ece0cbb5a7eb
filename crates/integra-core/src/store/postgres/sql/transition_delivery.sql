-- Moves delivery $1 from status $2 to $3 (clearing any lease), with error $5, at $7. When $4
-- is not NULL the delivery must still be leased by $4. $6 sets the next attempt time when
-- not NULL. Returns the message row id, subscriber and attempts.
UPDATE delivery
SET status = $3, last_error = $5, next_attempt_at = coalesce($6::bigint, next_attempt_at),
    lease_owner = NULL, lease_until = NULL, updated_at = $7
WHERE id = $1 AND status = $2 AND ($4::text IS NULL OR lease_owner = $4)
RETURNING message_id, subscriber, attempts

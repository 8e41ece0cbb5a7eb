-- Sends delivery $1, if it is still in status $2, back to be delivered afresh from $3.
UPDATE delivery
SET status = 'new', attempts = 0, next_attempt_at = $3, last_error = NULL, updated_at = $3
WHERE id = $1 AND status = $2

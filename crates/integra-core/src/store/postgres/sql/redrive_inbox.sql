-- Sends quarantined message $1 (every quarantined one when NULL) back to be handled afresh
-- from $2.
UPDATE exchange_inbox
SET status = 'new', attempts = 0, last_error = NULL, next_attempt_at = $2, updated_at = $2
WHERE status = 'quarantined' AND ($1::text IS NULL OR uuid = $1)

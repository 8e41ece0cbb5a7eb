-- Replaces the source of message $1 with $2 (at $3) while it still waits to be formed.
UPDATE message SET source = $2, updated_at = $3
WHERE id = $1 AND status IN ('new', 'forming_error')

-- Keeps the copy of $1 until $2, noting the refresh error $3 (NULL: the copy was current).
UPDATE schema_copy SET expires_at = $2, last_error = $3 WHERE code = $1

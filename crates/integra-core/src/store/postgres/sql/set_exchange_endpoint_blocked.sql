-- Blocks (with $2 = 1) or unblocks ($2 = 0) endpoint $1, at $3.
UPDATE exchange_endpoint SET blocked = $2, updated_at = $3 WHERE code = $1

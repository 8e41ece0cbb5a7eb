UPDATE message
SET status = 'ready', payload = ?2, payload_hash = ?3, lease_owner = NULL, lease_until = NULL,
    last_error = NULL, updated_at = ?4
WHERE id = ?1 AND status = 'forming'

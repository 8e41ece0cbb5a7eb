UPDATE message SET source = ?2, updated_at = ?3
WHERE id = ?1 AND status IN ('new', 'forming_error')

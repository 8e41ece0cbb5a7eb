UPDATE exchange_endpoint SET blocked = ?2, updated_at = ?3 WHERE code = ?1

UPDATE message SET attempts = attempts + 1 WHERE id = ?1

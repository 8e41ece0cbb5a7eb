UPDATE message SET lease_until = ?2 WHERE status = 'forming' AND lease_owner = ?1

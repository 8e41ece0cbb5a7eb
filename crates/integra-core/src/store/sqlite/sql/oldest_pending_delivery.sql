SELECT MIN(created_at) FROM delivery WHERE flow = ?1 AND status IN ('new', 'send_error')

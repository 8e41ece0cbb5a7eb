SELECT MIN(created_at) FROM message WHERE flow = ?1 AND status IN ('new', 'forming_error')

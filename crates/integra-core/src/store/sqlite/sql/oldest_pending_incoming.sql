SELECT MIN(created_at) FROM incoming WHERE flow = ?1 AND status IN ('new', 'error')

SELECT id, flow, status, attempts, updated_at FROM incoming WHERE uuid = ?1

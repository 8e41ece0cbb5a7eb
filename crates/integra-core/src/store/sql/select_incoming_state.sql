SELECT id, flow, status, attempts FROM incoming WHERE uuid = ?1

SELECT id, uuid, flow, status, object_key, ordering_key, not_before, attempts, updated_at
FROM message WHERE uuid = ?1

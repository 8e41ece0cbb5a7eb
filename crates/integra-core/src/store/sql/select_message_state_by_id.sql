SELECT id, uuid, flow, status, object_key, ordering_key, not_before, attempts
FROM message WHERE id = ?1

SELECT uuid, flow, COALESCE(payload, source), object_key, ordering_key, payload_hash,
       allow_duplicate
FROM message WHERE id = ?1

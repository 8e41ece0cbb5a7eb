-- What the transport needs of message row $1 (whose delivery was claimed): uuid, flow,
-- payload (the source when it is the payload), object key, ordering key, payload hash,
-- allow_duplicate (0/1).
SELECT uuid, flow, coalesce(payload, source) AS payload, object_key, ordering_key, payload_hash,
       allow_duplicate
FROM message WHERE id = $1

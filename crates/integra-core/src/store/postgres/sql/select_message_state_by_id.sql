-- What a transition of message row $1 needs: id, uuid, flow, status, object key, ordering
-- key, not before, attempts, updated.
SELECT id, uuid, flow, status, object_key, ordering_key, not_before, attempts, updated_at
FROM message WHERE id = $1

-- Registers message $1 (uuid) of flow $2 in status $3 with object key $4, ordering key $5,
-- allow_duplicate $6 (0/1) and source $7, due for forming at $8, not delivered before $9,
-- created at $10. Returns its row id (the registration order).
--
-- With an ordering key the caller takes lock_ordering_key('message:' || flow, key) first in
-- the same transaction: ids are given at insert but seen at commit, and deliveries with the
-- same key go out in id order, so the same-key registrations must commit in id order.
INSERT INTO message (uuid, flow, status, object_key, ordering_key, allow_duplicate, source,
                     next_attempt_at, not_before, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
RETURNING id

-- Stores incoming message $3 of flow $2 (uuid $1, payload $4, content type $5, headers $6,
-- ordering key $7), new and due at $8, unless that flow has it already; returns its row id
-- when new.
--
-- With an ordering key the caller takes lock_ordering_key('incoming:' || flow, key) first in
-- the same transaction, so that messages with the same key are committed in id order.
INSERT INTO incoming (uuid, flow, message_id, status, payload, content_type, headers,
                      ordering_key, next_attempt_at, created_at, updated_at)
VALUES ($1, $2, $3, 'new', $4, $5, $6, $7, $8, $8, $8)
ON CONFLICT (flow, message_id) DO NOTHING
RETURNING id

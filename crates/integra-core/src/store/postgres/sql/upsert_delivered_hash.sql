-- Records hash $4 as the payload last delivered to subscriber $2 for object key $3 of flow
-- $1, at $5.
INSERT INTO delivered_hash (flow, subscriber, object_key, hash, delivered_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (flow, subscriber, object_key) DO UPDATE
SET hash = excluded.hash, delivered_at = excluded.delivered_at

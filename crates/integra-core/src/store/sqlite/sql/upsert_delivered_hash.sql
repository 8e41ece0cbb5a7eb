INSERT INTO delivered_hash (flow, subscriber, object_key, hash, delivered_at)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (flow, subscriber, object_key) DO UPDATE
SET hash = excluded.hash, delivered_at = excluded.delivered_at

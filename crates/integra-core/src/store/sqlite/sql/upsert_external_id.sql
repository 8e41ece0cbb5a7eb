INSERT INTO external_id (system, object_type, local_key, external_id, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (system, object_type, local_key) DO UPDATE
SET external_id = excluded.external_id, updated_at = excluded.updated_at

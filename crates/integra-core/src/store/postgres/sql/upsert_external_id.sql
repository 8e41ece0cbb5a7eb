-- Sets the external id of local key $3 (object type $2) in system $1 to $4, at $5.
INSERT INTO external_id (system, object_type, local_key, external_id, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (system, object_type, local_key) DO UPDATE
SET external_id = excluded.external_id, updated_at = excluded.updated_at

-- Removes the external id of local key $3 (object type $2) in system $1.
DELETE FROM external_id WHERE system = $1 AND object_type = $2 AND local_key = $3

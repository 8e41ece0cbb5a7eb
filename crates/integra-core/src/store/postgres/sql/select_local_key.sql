-- The local key (object type $2) of external id $3 in system $1.
SELECT local_key FROM external_id WHERE system = $1 AND object_type = $2 AND external_id = $3

SELECT external_id FROM external_id WHERE system = ?1 AND object_type = ?2 AND local_key = ?3

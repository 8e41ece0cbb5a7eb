SELECT local_key FROM external_id WHERE system = ?1 AND object_type = ?2 AND external_id = ?3

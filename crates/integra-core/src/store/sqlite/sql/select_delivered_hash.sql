SELECT hash FROM delivered_hash WHERE flow = ?1 AND subscriber = ?2 AND object_key = ?3

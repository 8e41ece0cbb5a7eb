INSERT INTO config_object (kind, code, position, body) VALUES (?1, ?2, ?3, ?4)

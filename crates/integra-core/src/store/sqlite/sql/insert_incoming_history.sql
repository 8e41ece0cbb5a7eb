INSERT INTO incoming_history (incoming_id, at, status, attempt, detail)
VALUES (?1, ?2, ?3, ?4, ?5)

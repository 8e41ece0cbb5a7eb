INSERT INTO message_history (message_id, subscriber, at, status, attempt, detail)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)

SELECT subscriber, at, status, attempt, detail
FROM message_history WHERE message_id = ?1 ORDER BY rowid

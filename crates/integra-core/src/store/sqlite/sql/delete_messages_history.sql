DELETE FROM message_history WHERE message_id IN (SELECT value FROM json_each(?1))

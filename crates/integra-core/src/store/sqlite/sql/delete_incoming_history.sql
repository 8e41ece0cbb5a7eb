DELETE FROM incoming_history WHERE incoming_id IN (SELECT value FROM json_each(?1))

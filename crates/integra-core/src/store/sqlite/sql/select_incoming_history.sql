SELECT at, status, attempt, detail FROM incoming_history WHERE incoming_id = ?1 ORDER BY rowid

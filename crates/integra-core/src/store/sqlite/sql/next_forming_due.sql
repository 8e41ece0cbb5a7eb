SELECT MIN(next_attempt_at) FROM message
WHERE status IN ('new', 'forming_error') AND flow IN (SELECT value FROM json_each(?1))

SELECT MIN(next_attempt_at) FROM incoming
WHERE status IN ('new', 'error') AND flow IN (SELECT value FROM json_each(?1))

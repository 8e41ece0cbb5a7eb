SELECT MIN(next_attempt_at) FROM delivery
WHERE status IN ('new', 'send_error') AND subscriber IN (SELECT value FROM json_each(?1))

-- The deliveries of message row $1, in creation order: subscriber, status, attempts, next
-- attempt, last error, created, updated.
SELECT subscriber, status, attempts, next_attempt_at, last_error, created_at, updated_at
FROM delivery WHERE message_id = $1 ORDER BY id

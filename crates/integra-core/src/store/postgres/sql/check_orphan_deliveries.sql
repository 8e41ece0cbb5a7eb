-- Deliveries whose message is missing (at most $1): delivery id, message row id, subscriber.
SELECT d.id, d.message_id, d.subscriber
FROM delivery AS d
WHERE NOT EXISTS (SELECT 1 FROM message AS m WHERE m.id = d.message_id)
ORDER BY d.id
LIMIT $1

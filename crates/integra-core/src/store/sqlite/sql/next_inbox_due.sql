-- When the next new received message of the channels in the JSON array ?1 falls due.
SELECT MIN(next_attempt_at) FROM exchange_inbox
WHERE status = 'new' AND channel IN (SELECT value FROM json_each(?1))

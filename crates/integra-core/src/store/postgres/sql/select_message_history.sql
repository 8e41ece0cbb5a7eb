-- The history of message row $1, in the order it was written: subscriber (NULL for the
-- message's own transitions), at, status, attempt, detail.
SELECT subscriber, at, status, attempt, detail
FROM message_history WHERE message_id = $1 ORDER BY id

-- Appends to the history of message row $1: a transition of the message (subscriber $2
-- NULL) or of its delivery to $2, at $3, status $4, attempt $5, detail $6.
INSERT INTO message_history (message_id, subscriber, at, status, attempt, detail)
VALUES ($1, $2, $3, $4, $5, $6)

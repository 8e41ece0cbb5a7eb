-- Appends to the history of incoming message row $1: at $2, status $3, attempt $4, detail $5.
INSERT INTO incoming_history (incoming_id, at, status, attempt, detail)
VALUES ($1, $2, $3, $4, $5)

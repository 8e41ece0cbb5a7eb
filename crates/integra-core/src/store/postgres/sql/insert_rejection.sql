-- Keeps a message flow $1's source $2 received and rejected: its message id $3 (if any),
-- why $4, the payload $5, at $6.
INSERT INTO incoming_rejection (flow, source, message_id, reason, payload, at)
VALUES ($1, $2, $3, $4, $5, $6)

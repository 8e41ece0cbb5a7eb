-- Creates the delivery of message row $1 to subscriber $2 (flow $3, ordering key $4) in
-- status $5, due at $6, created at $7.
INSERT INTO delivery (message_id, subscriber, flow, ordering_key, status, next_attempt_at,
                      created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7)

-- Queues message ?1 (kind ?2, channel ?3) for recipient ?4, due now (?7).
INSERT INTO exchange_outbox (uuid, kind, channel, recipient, body, quick, status, next_attempt_at,
                             created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7, ?7)

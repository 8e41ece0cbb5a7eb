-- Queues message $1 (kind $2, channel $3) for recipient $4, body $5, quick $6 (0/1), due
-- now ($7).
--
-- Each recipient gets its messages in id order: the caller takes
-- lock_ordering_key('outbox', '', recipient) first in the same transaction, so that one
-- recipient's rows are committed in id order. (A key of its own, not the claims' 'outbox
-- claim': sends need not wait for a claim, nor claims for a batch of sends.)
INSERT INTO exchange_outbox (uuid, kind, channel, recipient, body, quick, status, next_attempt_at,
                             created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7, $7)

-- Stores message $1 from $2 (channel $3, body $4) unless it is stored already (status $5,
-- error $7, at $6); returns its row id when new.
--
-- The messages of one (sender, channel) are handled in id order (claim_inbox): the caller
-- takes lock_ordering_key('inbox:' || sender, channel) first in the same transaction, so
-- that ids are committed in the order they are given.
INSERT INTO exchange_inbox
    (uuid, sender, channel, body, status, last_error, next_attempt_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $7, $6, $6, $6)
ON CONFLICT (sender, uuid) DO NOTHING
RETURNING id

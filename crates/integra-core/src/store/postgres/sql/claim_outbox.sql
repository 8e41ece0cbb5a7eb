-- Claims for owner $1 (lease until $2) up to $6 messages to recipient $4, oldest first,
-- unless a delivery to it is in flight at $3: pending ones (with $5 = 1, only quick ones)
-- and ones whose delivery lease expired. The caller chose the recipient because its oldest
-- message is due (select_outbox_recipients), so the ones behind it go along in order.
-- Counts the attempt. Returns id, uuid, kind, channel, body, attempts.
--
-- Run it after lock_ordering_key('outbox claim', '', $4) in the same transaction. "None
-- in flight" is a rule about rows other transactions may be claiming: at READ COMMITTED one
-- statement could miss a claim committed after its snapshot, or not yet committed, and two
-- deliveries to one recipient would be in flight. With the lock taken by an earlier statement, this
-- statement's snapshot sees every claim of the previous holder. The rows are still locked
-- (SKIP LOCKED) against the statements that change them without the lock (finish_outbox,
-- mark_outbox_done, renewals): a row one of those holds at that moment (only possible for a
-- row left sending by an expired lease) is skipped, and the rows behind it may go first.
WITH picked AS (
    SELECT o.id FROM exchange_outbox AS o
    WHERE o.recipient = $4
      AND ((o.status = 'pending' AND ($5::bigint = 0 OR o.quick = 1))
           OR (o.status = 'sending' AND o.lease_until < $3))
      AND NOT EXISTS (
          SELECT 1 FROM exchange_outbox AS s
          WHERE s.recipient = $4 AND s.status = 'sending' AND s.lease_until >= $3)
    ORDER BY o.id
    LIMIT $6
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE exchange_outbox AS t
SET status = 'sending', attempts = t.attempts + 1, lease_owner = $1, lease_until = $2,
    updated_at = $3
FROM picked
WHERE t.id = picked.id
RETURNING t.id, t.uuid, t.kind, t.channel, t.body, t.attempts

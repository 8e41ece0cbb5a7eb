-- Claims for owner ?1 (lease until ?2) up to ?6 messages to recipient ?4, oldest first,
-- unless a delivery to it is in flight at ?3: pending ones (with ?5 = 1, only quick ones)
-- and ones whose delivery lease expired. The caller chose the recipient because its oldest
-- message is due (select_outbox_recipients), so the ones behind it go along in order.
-- Counts the attempt.
UPDATE exchange_outbox
SET status = 'sending', attempts = attempts + 1, lease_owner = ?1, lease_until = ?2,
    updated_at = ?3
WHERE id IN (
    SELECT id FROM exchange_outbox
    WHERE recipient = ?4
      AND ((status = 'pending' AND (?5 = 0 OR quick = 1))
           OR (status = 'sending' AND lease_until < ?3))
    ORDER BY id
    LIMIT ?6 + 0)
  AND NOT EXISTS (
      SELECT 1 FROM exchange_outbox AS s
      WHERE s.recipient = ?4 AND s.status = 'sending' AND s.lease_until >= ?3)
RETURNING id, uuid, kind, channel, body, attempts

-- Recipients (not blocked, with no delivery in flight at $1) to deliver to. For the
-- dispatcher ($2 = 0): those whose oldest undelivered message is due, or was left sending
-- by an expired lease; the rest wait behind it, so each recipient gets its messages in the
-- order they were sent. For deliver_messages ($2 = 1): those with quick messages pending,
-- or left sending by an expired lease (a deliverer that died).
--
-- A hint, read without locks: claim_outbox (after lock_ordering_key) decides.
SELECT e.code FROM exchange_endpoint AS e
WHERE e.blocked = 0
  AND NOT EXISTS (
      SELECT 1 FROM exchange_outbox AS s
      WHERE s.recipient = e.code AND s.status = 'sending' AND s.lease_until >= $1)
  AND CASE WHEN $2::bigint = 1
      THEN EXISTS (
          SELECT 1 FROM exchange_outbox AS q
          WHERE q.recipient = e.code AND q.status = 'pending' AND q.quick = 1)
        OR EXISTS (
          SELECT 1 FROM exchange_outbox AS x
          WHERE x.recipient = e.code AND x.status = 'sending' AND x.quick = 1)
      ELSE (
          SELECT CASE h.status WHEN 'sending' THEN h.lease_until ELSE h.next_attempt_at END
          FROM exchange_outbox AS h
          WHERE h.recipient = e.code AND h.status IN ('pending', 'sending')
          ORDER BY h.id LIMIT 1) <= $1
  END

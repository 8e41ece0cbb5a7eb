-- When the next recipient (not blocked, with no delivery in flight at $1) falls due: when
-- its oldest undelivered message does (NULL: none).
SELECT min((
    SELECT CASE h.status WHEN 'sending' THEN h.lease_until ELSE h.next_attempt_at END
    FROM exchange_outbox AS h
    WHERE h.recipient = e.code AND h.status IN ('pending', 'sending')
    ORDER BY h.id LIMIT 1))
FROM exchange_endpoint AS e
WHERE e.blocked = 0
  AND NOT EXISTS (
      SELECT 1 FROM exchange_outbox AS s
      WHERE s.recipient = e.code AND s.status = 'sending' AND s.lease_until >= $1)

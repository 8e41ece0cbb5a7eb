-- Deliveries in one of the statuses of the JSON array ?1 matching every filter that is not
-- NULL: ?2 flow, ?3 subscriber, ?4 message id, ?5/?6 message created from/to.
SELECT d.id, d.message_id, d.subscriber, d.status
FROM delivery AS d JOIN message AS m ON m.id = d.message_id
WHERE d.status IN (SELECT value FROM json_each(?1))
  AND (?2 IS NULL OR m.flow = ?2)
  AND (?3 IS NULL OR d.subscriber = ?3)
  AND (?4 IS NULL OR m.uuid = ?4)
  AND (?5 IS NULL OR m.created_at >= ?5)
  AND (?6 IS NULL OR m.created_at < ?6)
ORDER BY d.message_id, d.id

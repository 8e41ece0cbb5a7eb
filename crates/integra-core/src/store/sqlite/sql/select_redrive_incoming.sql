-- Incoming messages in one of the statuses of the JSON array ?1 matching every filter that
-- is not NULL: ?2 flow, ?4 incoming id, ?5/?6 accepted from/to.
SELECT id, status FROM incoming AS i
WHERE i.status IN (SELECT value FROM json_each(?1))
  AND (?2 IS NULL OR i.flow = ?2)
  AND (?4 IS NULL OR i.uuid = ?4)
  AND (?5 IS NULL OR i.created_at >= ?5)
  AND (?6 IS NULL OR i.created_at < ?6)
ORDER BY i.id

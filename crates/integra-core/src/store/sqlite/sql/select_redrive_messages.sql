-- Messages in one of the statuses of the JSON array ?1 matching every filter that is not
-- NULL: ?2 flow, ?4 message id, ?5/?6 created from/to.
SELECT id, status FROM message AS m
WHERE m.status IN (SELECT value FROM json_each(?1))
  AND (?2 IS NULL OR m.flow = ?2)
  AND (?4 IS NULL OR m.uuid = ?4)
  AND (?5 IS NULL OR m.created_at >= ?5)
  AND (?6 IS NULL OR m.created_at < ?6)
ORDER BY m.id

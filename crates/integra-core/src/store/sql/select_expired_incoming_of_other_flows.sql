SELECT id FROM incoming
WHERE flow NOT IN (SELECT value FROM json_each(?1))
  AND status IN ('processed', 'dead') AND updated_at < ?2
  AND (status = 'processed' OR updated_at < ?3)
LIMIT ?4 + 0

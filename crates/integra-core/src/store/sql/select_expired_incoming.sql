-- Finished incoming messages of flow ?1 past their retention: processed before ?2, dead
-- before ?3.
SELECT id FROM incoming
WHERE flow = ?1 AND status IN ('processed', 'dead') AND updated_at < ?2
  AND (status = 'processed' OR updated_at < ?3)
LIMIT ?4 + 0

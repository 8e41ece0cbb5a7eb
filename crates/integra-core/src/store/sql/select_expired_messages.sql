-- Finished messages of flow ?1 past their retention: sent or cancelled before ?2, dead or
-- undelivered before ?3 (?3 <= ?2, dead ones are kept longer).
SELECT id FROM message
WHERE flow = ?1 AND (status = 'sent' OR status = 'undelivered' OR status = 'cancelled' OR status = 'dead')
  AND updated_at < ?2
  AND (status IN ('sent', 'cancelled') OR updated_at < ?3)
LIMIT ?4 + 0

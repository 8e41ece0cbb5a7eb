-- As select_expired_messages, for every flow not in the JSON array ?1 (removed flows).
SELECT id FROM message
WHERE flow NOT IN (SELECT value FROM json_each(?1))
  AND (status = 'sent' OR status = 'undelivered' OR status = 'cancelled' OR status = 'dead')
  AND updated_at < ?2
  AND (status IN ('sent', 'cancelled') OR updated_at < ?3)
LIMIT ?4 + 0

-- Ends dispatched message ?1 once none of its deliveries is pending: Undelivered when one is
-- dead, else Sent.
UPDATE message
SET status = CASE WHEN EXISTS (SELECT 1 FROM delivery WHERE message_id = ?1 AND status = 'dead')
                  THEN 'undelivered' ELSE 'sent' END,
    updated_at = ?2
WHERE id = ?1 AND status = 'dispatched'
  AND NOT EXISTS (SELECT 1 FROM delivery
                  WHERE message_id = ?1
                    AND (status = 'new' OR status = 'in_progress' OR status = 'send_error'))
RETURNING status, attempts

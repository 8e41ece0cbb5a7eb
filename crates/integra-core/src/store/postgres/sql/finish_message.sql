-- Ends dispatched message $1 (at $2) once none of its deliveries is pending: Undelivered
-- when one is dead, else Sent. Returns the new status and the forming attempts.
UPDATE message
SET status = CASE WHEN EXISTS (SELECT 1 FROM delivery WHERE message_id = $1 AND status = 'dead')
                  THEN 'undelivered' ELSE 'sent' END,
    updated_at = $2
WHERE id = $1 AND status = 'dispatched'
  AND NOT EXISTS (SELECT 1 FROM delivery
                  WHERE message_id = $1
                    AND status IN ('new', 'in_progress', 'send_error'))
RETURNING status, attempts

-- Up to $4 messages of flow $1 in finished status $2 last changed before $3. The condition
-- of index message_finished is repeated so that the planner sees it applies: each
-- (flow, status) is one range of it.
SELECT id FROM message
WHERE flow = $1 AND status = $2 AND updated_at < $3
  AND status IN ('sent', 'undelivered', 'cancelled', 'dead')
LIMIT $4

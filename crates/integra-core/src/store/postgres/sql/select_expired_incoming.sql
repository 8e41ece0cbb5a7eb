-- Up to $4 incoming messages of flow $1 in finished status $2 last changed before $3 (the
-- condition of index incoming_finished repeated, so that the planner sees it applies).
SELECT id FROM incoming
WHERE flow = $1 AND status = $2 AND updated_at < $3
  AND status IN ('processed', 'dead')
LIMIT $4

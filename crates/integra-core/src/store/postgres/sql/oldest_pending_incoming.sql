-- When the oldest incoming message of flow $1 still waiting to be processed was accepted
-- (NULL: none).
SELECT min(created_at) FROM incoming WHERE flow = $1 AND status IN ('new', 'error')

-- When the oldest delivery of flow $1 still waiting to be sent was created (NULL: none).
SELECT min(created_at) FROM delivery WHERE flow = $1 AND status IN ('new', 'send_error')

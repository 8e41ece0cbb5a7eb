-- When the oldest message of flow $1 still waiting to be formed was registered (NULL: none).
SELECT min(created_at) FROM message WHERE flow = $1 AND status IN ('new', 'forming_error')

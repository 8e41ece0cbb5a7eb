SELECT id, uuid FROM message
WHERE flow = ?1 AND object_key = ?2 AND status IN ('new', 'forming_error') AND allow_duplicate = 0
ORDER BY id
LIMIT 1

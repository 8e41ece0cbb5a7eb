-- The oldest message of flow $1 for object key $2 that still waits to be formed (and may
-- take a newer source): row id and uuid.
SELECT id, uuid FROM message
WHERE flow = $1 AND object_key = $2 AND status IN ('new', 'forming_error') AND allow_duplicate = 0
ORDER BY id
LIMIT 1

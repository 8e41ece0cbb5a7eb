-- The hash of the payload last delivered to subscriber $2 for object key $3 of flow $1.
SELECT hash FROM delivered_hash WHERE flow = $1 AND subscriber = $2 AND object_key = $3

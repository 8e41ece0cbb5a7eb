-- History rows whose record is missing (at most $1 records): 0 for a message's history, 1
-- for an incoming message's; the record's row id; how many history rows point to it.
SELECT 0::bigint AS incoming, h.message_id AS record_id, count(*) AS rows
FROM message_history AS h
WHERE NOT EXISTS (SELECT 1 FROM message AS m WHERE m.id = h.message_id)
GROUP BY h.message_id
UNION ALL
SELECT 1::bigint, h.incoming_id, count(*)
FROM incoming_history AS h
WHERE NOT EXISTS (SELECT 1 FROM incoming AS i WHERE i.id = h.incoming_id)
GROUP BY h.incoming_id
LIMIT $1

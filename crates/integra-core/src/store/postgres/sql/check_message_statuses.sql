-- Messages whose status disagrees with their deliveries (at most $1). Without deliveries a
-- message is never dispatched or undelivered (it is sent when its flow had no active
-- subscriber); with them it is dispatched while one is pending, else undelivered when one
-- is dead, else sent. Row id, uuid, status, deliveries, pending, dead.
SELECT m.id, m.uuid, m.status, coalesce(d.n, 0), coalesce(d.pending, 0), coalesce(d.dead, 0)
FROM message AS m
LEFT JOIN (
    SELECT message_id,
           count(*) AS n,
           count(*) FILTER (WHERE status IN ('new', 'in_progress', 'send_error')) AS pending,
           count(*) FILTER (WHERE status = 'dead') AS dead
    FROM delivery
    GROUP BY message_id
) AS d ON d.message_id = m.id
WHERE CASE
    WHEN d.n IS NULL THEN m.status = 'dispatched' OR m.status = 'undelivered'
    WHEN d.pending > 0 THEN m.status <> 'dispatched'
    WHEN d.dead > 0 THEN m.status <> 'undelivered'
    ELSE m.status <> 'sent'
END
ORDER BY m.id
LIMIT $1

-- Deliveries in one of the statuses of the JSON array $1 matching every filter that is not
-- NULL: $2 flow, $3 subscriber, $4 message id (uuid), $5/$6 message created from/to. Id,
-- message row id, subscriber, status.
SELECT d.id, d.message_id, d.subscriber, d.status
FROM delivery AS d JOIN message AS m ON m.id = d.message_id
WHERE d.status = ANY (ARRAY(SELECT json_array_elements_text($1::text::json)))
  AND ($2::text IS NULL OR m.flow = $2)
  AND ($3::text IS NULL OR d.subscriber = $3)
  AND ($4::text IS NULL OR m.uuid = $4)
  AND ($5::bigint IS NULL OR m.created_at >= $5)
  AND ($6::bigint IS NULL OR m.created_at < $6)
ORDER BY d.message_id, d.id

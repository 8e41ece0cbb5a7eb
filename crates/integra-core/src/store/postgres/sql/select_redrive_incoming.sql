-- Incoming messages in one of the statuses of the JSON array $1 matching every filter that
-- is not NULL: $2 flow, $4 incoming id (uuid), $5/$6 accepted from/to. Id, status.
-- $3 (a subscriber, in the re-drive's shared parameters) does not apply: it is named only
-- so that the statement takes six parameters (PostgreSQL cannot type one left out).
SELECT id, status FROM incoming AS i
WHERE i.status = ANY (ARRAY(SELECT json_array_elements_text($1::text::json)))
  AND ($2::text IS NULL OR i.flow = $2)
  AND ($3::text IS NULL OR true)
  AND ($4::text IS NULL OR i.uuid = $4)
  AND ($5::bigint IS NULL OR i.created_at >= $5)
  AND ($6::bigint IS NULL OR i.created_at < $6)
ORDER BY i.id

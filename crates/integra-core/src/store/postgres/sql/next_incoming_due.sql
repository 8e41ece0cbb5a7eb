-- When the next incoming message of the flows in the JSON array $1 falls due (NULL: none is
-- waiting).
SELECT min(next_attempt_at) FROM incoming
WHERE status IN ('new', 'error')
  AND flow = ANY (ARRAY(SELECT json_array_elements_text($1::text::json)))

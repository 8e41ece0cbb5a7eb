-- When the next message of the flows in the JSON array $1 falls due for forming (NULL: none
-- is waiting).
SELECT min(next_attempt_at) FROM message
WHERE status IN ('new', 'forming_error')
  AND flow = ANY (ARRAY(SELECT json_array_elements_text($1::text::json)))

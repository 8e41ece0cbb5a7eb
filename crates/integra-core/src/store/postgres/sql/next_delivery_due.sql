-- When the next delivery to the subscribers in the JSON array $1 falls due (NULL: none is
-- waiting).
SELECT min(next_attempt_at) FROM delivery
WHERE status IN ('new', 'send_error')
  AND subscriber = ANY (ARRAY(SELECT json_array_elements_text($1::text::json)))

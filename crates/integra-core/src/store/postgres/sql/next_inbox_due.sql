-- When the next new received message of the channels in the JSON array $1 falls due (NULL:
-- none is waiting).
SELECT min(next_attempt_at) FROM exchange_inbox
WHERE status = 'new'
  AND channel = ANY (ARRAY(SELECT json_array_elements_text($1::text::json)))

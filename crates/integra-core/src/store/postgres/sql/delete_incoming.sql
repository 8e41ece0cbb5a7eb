-- Removes the incoming messages whose row ids are in the JSON array $1 (of integers).
DELETE FROM incoming
WHERE id = ANY (ARRAY(SELECT json_array_elements_text($1::text::json)::bigint))

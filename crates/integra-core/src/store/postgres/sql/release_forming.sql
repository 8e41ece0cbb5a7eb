-- Gives the messages with the ids (uuids) in the JSON array $1, claimed for forming by owner
-- $2, back as they were before the claim (at $3): the attempt uncounted, no lease, due as
-- before.
UPDATE message
SET status = CASE WHEN attempts <= 1 THEN 'new' ELSE 'forming_error' END,
    attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, updated_at = $3
WHERE uuid = ANY (ARRAY(SELECT json_array_elements_text($1::text::json)))
  AND status = 'forming' AND lease_owner = $2

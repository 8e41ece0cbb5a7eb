-- Gives the received exchange messages with the ids (uuids) in the JSON array $1, claimed by
-- owner $2, back to be handled (at $3): the attempt uncounted, no lease, due as before.
UPDATE exchange_inbox
SET status = 'new', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL,
    updated_at = $3
WHERE uuid = ANY (ARRAY(SELECT json_array_elements_text($1::text::json)))
  AND status = 'in_progress' AND lease_owner = $2

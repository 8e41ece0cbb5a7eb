-- Gives the messages with the ids in the JSON array ?1, claimed for forming by owner ?2, back
-- as they were before the claim: the attempt uncounted, no lease, due as before.
UPDATE message
SET status = CASE WHEN attempts <= 1 THEN 'new' ELSE 'forming_error' END,
    attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, updated_at = ?3
WHERE uuid IN (SELECT value FROM json_each(?1)) AND status = 'forming' AND lease_owner = ?2

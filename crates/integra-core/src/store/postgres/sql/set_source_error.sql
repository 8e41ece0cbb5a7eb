-- Records how owner $2's run of flow $1's source last went (at $4): $3 is the error, NULL
-- when it works. Changes nothing when the error is the same.
UPDATE source_lease SET last_error = $3, updated_at = $4
WHERE flow = $1 AND owner = $2 AND last_error IS DISTINCT FROM $3::text

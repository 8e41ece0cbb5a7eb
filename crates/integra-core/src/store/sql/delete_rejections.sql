-- Removes rejections of flow ?1 older than ?2; with ?1 NULL, those of flows not in the JSON
-- array ?3.
DELETE FROM incoming_rejection
WHERE at < ?2
  AND ((?1 IS NOT NULL AND flow = ?1)
       OR (?1 IS NULL AND flow NOT IN (SELECT value FROM json_each(?3))))

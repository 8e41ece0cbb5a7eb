-- Removes up to $3 rejections of flow $1 older than $2.
DELETE FROM incoming_rejection WHERE id IN (
    SELECT id FROM incoming_rejection WHERE flow = $1 AND at < $2 LIMIT $3)

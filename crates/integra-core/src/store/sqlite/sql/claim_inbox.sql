-- Claims for owner ?1 (lease until ?2) up to ?5 received messages of the channels in the
-- JSON array ?4 (all when NULL) but not in the JSON array ?6, oldest first: new ones due by
-- ?3, and ones whose handler's lease expired. Per (sender, channel) in arrival order: a
-- message waits while an earlier one is unfinished. Counts the attempt.
UPDATE exchange_inbox
SET status = 'in_progress', attempts = attempts + 1, lease_owner = ?1, lease_until = ?2,
    updated_at = ?3
WHERE id IN (
    SELECT i.id FROM exchange_inbox AS i
    WHERE ((i.status = 'new' AND i.next_attempt_at <= ?3)
           OR (i.status = 'in_progress' AND i.lease_until < ?3))
      AND (?4 IS NULL OR i.channel IN (SELECT value FROM json_each(?4)))
      AND i.channel NOT IN (SELECT value FROM json_each(?6))
      AND NOT EXISTS (
          SELECT 1 FROM exchange_inbox AS p
          WHERE p.sender = i.sender AND p.channel = i.channel AND p.id < i.id
            AND (p.status = 'new' OR p.status = 'in_progress'))
    ORDER BY i.id
    LIMIT ?5 + 0)
RETURNING id, uuid, sender, channel, body, attempts

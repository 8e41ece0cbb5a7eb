-- Removes up to ?3 received exchange messages handled before ?1 or quarantined before ?2.
DELETE FROM exchange_inbox WHERE id IN (
    SELECT id FROM exchange_inbox
    WHERE (status = 'processed' AND updated_at < ?1) OR (status = 'quarantined' AND updated_at < ?2)
    LIMIT ?3 + 0)

-- Removes up to $3 received exchange messages in status $1 ('processed' or 'quarantined')
-- last changed before $2 (the condition of index exchange_inbox_finished repeated, so that
-- the planner sees that the index applies).
DELETE FROM exchange_inbox WHERE id IN (
    SELECT id FROM exchange_inbox
    WHERE status = $1 AND updated_at < $2 AND status IN ('processed', 'quarantined')
    LIMIT $3)

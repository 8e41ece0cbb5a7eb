SELECT id, flow, attempts FROM incoming
WHERE status = 'in_progress' AND lease_until <= ?1
LIMIT ?2 + 0

SELECT id, flow, attempts FROM message
WHERE status = 'forming' AND lease_until <= ?1
LIMIT ?2 + 0

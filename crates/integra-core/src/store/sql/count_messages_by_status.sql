SELECT status, COUNT(*) FROM message GROUP BY status

SELECT status, COUNT(*) FROM delivery GROUP BY status

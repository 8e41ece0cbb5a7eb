SELECT status, COUNT(*) FROM incoming GROUP BY status

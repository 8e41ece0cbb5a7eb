-- Gives up owner $2's lease on flow $1's source (at $3), keeping the row's last error.
UPDATE source_lease SET lease_until = 0, updated_at = $3
WHERE flow = $1 AND owner = $2

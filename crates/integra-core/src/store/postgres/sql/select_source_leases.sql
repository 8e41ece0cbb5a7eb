-- Every flow's source lease: flow, owner, until, last error, updated; by flow, in byte order
-- (SQLite's), whatever the database's collation.
SELECT flow, owner, lease_until, last_error, updated_at FROM source_lease
ORDER BY flow COLLATE "C"

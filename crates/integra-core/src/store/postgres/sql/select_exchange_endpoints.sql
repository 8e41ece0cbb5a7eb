-- Every endpoint: code, name, URL, user name, password (as stored), blocked (0/1); by name
-- then code, in byte order (SQLite's), whatever the database's collation.
SELECT code, name, url, username, password, blocked FROM exchange_endpoint
ORDER BY name COLLATE "C", code COLLATE "C"

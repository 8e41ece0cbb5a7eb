-- Endpoint $1: code, name, URL, user name, password (as stored), blocked (0/1).
SELECT code, name, url, username, password, blocked FROM exchange_endpoint WHERE code = $1

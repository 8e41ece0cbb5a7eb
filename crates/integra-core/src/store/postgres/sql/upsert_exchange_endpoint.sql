-- Adds endpoint $1 or updates its name $2 and connection settings ($3 URL, $4 user name,
-- $5 password, sealed when the store has a key) at $6, keeping `blocked`.
INSERT INTO exchange_endpoint (code, name, url, username, password, blocked, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 0, $6, $6)
ON CONFLICT (code) DO UPDATE
SET name = excluded.name, url = excluded.url, username = excluded.username,
    password = excluded.password, updated_at = excluded.updated_at

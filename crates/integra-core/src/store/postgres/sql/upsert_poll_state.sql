-- Keeps what flow $1's poll source carries to its next poll: etag $2, last modified $3,
-- cursor $4, at $5.
INSERT INTO poll_state (flow, etag, last_modified, cursor, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (flow) DO UPDATE
SET etag = excluded.etag, last_modified = excluded.last_modified, cursor = excluded.cursor,
    updated_at = excluded.updated_at

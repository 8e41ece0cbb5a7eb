-- Stores a good copy of external schema $1: from $2, document $3, etag $4, last modified
-- $5, fetched at $6, to revalidate after $7; clears the last refresh error.
INSERT INTO schema_copy (code, source, document, etag, last_modified, fetched_at, expires_at,
                         last_error)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
ON CONFLICT (code) DO UPDATE
SET source = excluded.source, document = excluded.document, etag = excluded.etag,
    last_modified = excluded.last_modified, fetched_at = excluded.fetched_at,
    expires_at = excluded.expires_at, last_error = NULL

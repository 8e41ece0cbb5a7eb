-- The stored copy of external schema $1: source, document, etag, last modified, fetched,
-- expires, last error.
SELECT source, document, etag, last_modified, fetched_at, expires_at, last_error
FROM schema_copy WHERE code = $1

INSERT INTO schema_copy (code, source, document, etag, last_modified, fetched_at, expires_at,
                         last_error)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)
ON CONFLICT (code) DO UPDATE
SET source = excluded.source, document = excluded.document, etag = excluded.etag,
    last_modified = excluded.last_modified, fetched_at = excluded.fetched_at,
    expires_at = excluded.expires_at, last_error = NULL

-- Announces new work to every process listening on channel $1 (the schema's): sent when
-- the statement commits.
SELECT pg_notify($1::text, '')

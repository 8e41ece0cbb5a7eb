-- The storage's own full check (SQLite's integrity_check): rows naming what is damaged, at
-- most $1 of them; none when all is well.
--
-- PostgreSQL has no check of its files that a statement can run (amcheck is an extension,
-- and is not assumed). What it does record: data pages whose checksum failed when read
-- (pg_stat_database, counted since the statistics were last reset; NULL, so nothing, when the
-- cluster has no data checksums), and indexes left invalid or not ready on Integra's tables
-- (a failed CREATE/REINDEX ... CONCURRENTLY), which answer no query and may not enforce
-- their UNIQUE constraint. One text column, one row per finding.
SELECT finding FROM (
    SELECT 1 AS ord, 0::bigint AS sub,
           'PostgreSQL counted ' || d.checksum_failures || ' data checksum failure(s) in database '
           || d.datname || coalesce(', the latest at ' || d.checksum_last_failure, '') AS finding
    FROM pg_stat_database AS d
    WHERE d.datname = current_database() AND d.checksum_failures > 0
    UNION ALL
    SELECT 2, i.oid::bigint,
           'index ' || i.relname || ' on ' || t.relname || ' is '
           || CASE WHEN NOT x.indisvalid THEN 'invalid' ELSE 'not ready' END
    FROM pg_index AS x
    JOIN pg_class AS i ON i.oid = x.indexrelid
    JOIN pg_class AS t ON t.oid = x.indrelid
    JOIN pg_namespace AS n ON n.oid = t.relnamespace
    WHERE n.nspname = current_schema()
      AND NOT (x.indisvalid AND x.indisready AND x.indislive)
) AS found
ORDER BY ord, sub
LIMIT $1

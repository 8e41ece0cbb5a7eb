-- The storage's own quick check (SQLite's quick_check): rows naming what is damaged, at most
-- $1 of them; none when all is well.
--
-- PostgreSQL has no check of its files that a statement can run. What it does record: data
-- pages whose checksum failed when read (pg_stat_database, counted since the statistics
-- were last reset; NULL, so nothing, when the cluster has no data checksums). The full check
-- (check_sqlite_full) adds the indexes left invalid. One text column, one row per finding.
SELECT 'PostgreSQL counted ' || d.checksum_failures || ' data checksum failure(s) in database '
       || d.datname || coalesce(', the latest at ' || d.checksum_last_failure, '')
FROM pg_stat_database AS d
WHERE d.datname = current_database() AND d.checksum_failures > 0
LIMIT $1

-- SQLite's full integrity check: the quick check, and every index against its table (and
-- UNIQUE constraints): one row "ok", or rows naming what is damaged (SQLite stops at 100),
-- at most ?1 of them.
SELECT * FROM pragma_integrity_check LIMIT ?1 + 0

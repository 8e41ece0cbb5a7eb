-- SQLite's quick check of the file's structure (pages, b-trees, NOT NULL and CHECK
-- constraints, without comparing indexes with their tables): one row "ok", or rows naming
-- what is damaged (SQLite stops at 100), at most ?1 of them.
SELECT * FROM pragma_quick_check LIMIT ?1 + 0

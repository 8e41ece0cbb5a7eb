-- Rows whose declared foreign key points nowhere (at most ?1): the table, the row id, the
-- parent table.
SELECT "table", rowid, parent FROM pragma_foreign_key_check LIMIT ?1 + 0

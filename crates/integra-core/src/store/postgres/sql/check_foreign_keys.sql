-- Rows whose declared foreign key points nowhere (at most $1): the table, the row id, the
-- parent table.
--
-- SQLite's `pragma_foreign_key_check` has nothing to check here: the schema declares no
-- foreign key (and PostgreSQL enforces those it has at every write, so none can point
-- nowhere). No rows, in the columns the caller reads: text, bigint (NULL), text.
SELECT ''::text AS "table", NULL::bigint AS rowid, ''::text AS parent
WHERE false
LIMIT $1

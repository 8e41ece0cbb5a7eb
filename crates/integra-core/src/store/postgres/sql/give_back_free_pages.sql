-- Gives free space back to the file system (SQLite: up to 16 free pages, by incremental
-- vacuum).
--
-- Nothing to do on PostgreSQL: VACUUM cannot run inside a transaction, and autovacuum (tuned
-- per table in the schema) already makes the space of removed rows reusable and cuts empty
-- pages off the end of each table. select_space reports that space is not given back (its
-- third column is 0), so the caller does not ask; were it to, this returns no rows and
-- changes nothing.
SELECT WHERE false

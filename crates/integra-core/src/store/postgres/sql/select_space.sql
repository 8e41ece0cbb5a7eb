-- The store's size and free space in bytes, and whether free space is given back to the file
-- system (2) or not (0): SQLite's file size, free pages and auto_vacuum mode.
--
-- On PostgreSQL:
-- * size: pg_total_relation_size (heap, TOAST, free space and visibility maps, indexes) of
--   Integra's tables in current_schema(), summed;
-- * free: an estimate of the space dead rows take in those tables, awaiting (auto)vacuum:
--   each table's heap size times its share of dead rows (n_dead_tup over live + dead, from
--   pg_stat_user_tables; 0 while the statistics know nothing). Space vacuum has already made
--   reusable inside the files is not counted: PostgreSQL does not say how much there is
--   without reading the tables (pgstattuple);
-- * gives back: always 0. Vacuum reuses the space inside the files and gives back only
--   empty pages at a table's end; nothing Integra runs in a transaction gives more back (see
--   give_back_free_pages), so the caller must not wait for it.
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS file_bytes,
       coalesce(sum(pg_relation_size(c.oid) * s.n_dead_tup
                    / nullif(s.n_live_tup + s.n_dead_tup, 0)), 0)::bigint AS free_bytes,
       0::bigint AS auto_vacuum
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables AS s ON s.relid = c.oid
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND c.relname IN ('meta', 'config_object', 'message', 'delivery', 'message_history',
                    'delivered_hash', 'incoming', 'incoming_history', 'external_id',
                    'schema_copy', 'source_lease', 'source_offset', 'poll_state',
                    'incoming_rejection', 'queue_count', 'exchange_self', 'exchange_endpoint',
                    'exchange_recipient', 'exchange_outbox', 'exchange_inbox', 'named_lease',
                    'schema_version')

-- Serializes, until the end of the transaction, the writes that share key $3 of kind $1
-- within scope $2: registrations with one ordering key ('message' or 'incoming', the flow),
-- exchange messages to one recipient ('outbox', '') or from one sender's channel ('inbox',
-- the sender), coalescing on one object key ('object', the flow), configuration changes
-- ('config', '', ''). SQLite's single writer serializes them all; on PostgreSQL, ids are
-- given at insert but become visible at commit, so two transactions registering with one key
-- could commit in the opposite order of their ids, and a claim take the later row while the
-- earlier one is still invisible to it. Taken before the insert, this lock makes same-key
-- writes commit in id order.
--
-- A transaction-level advisory lock on a 64-bit hash of Integra's name, the schema (several
-- Integra stores may share a database), and the kind, scope and key (the scope's length
-- prefixed). A hash collision only makes two unrelated keys wait for each other. Returns
-- one row (1), of no use.
SELECT 1::bigint AS locked FROM pg_advisory_xact_lock(hashtextextended(
    'integra:' || current_schema() || ':' || $1::text || ':' || length($2::text) || ':'
    || $2::text || ':' || $3::text, 0))

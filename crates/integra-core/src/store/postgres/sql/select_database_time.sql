-- The database's clock now, in milliseconds since the Unix epoch (clock_timestamp: the time
-- of this very statement, not of the transaction's start).
SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint

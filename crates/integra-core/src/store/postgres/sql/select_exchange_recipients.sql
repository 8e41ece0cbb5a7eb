-- The recipients of kind $1 ('sender' or 'subscriber') of channel $2, in byte order
-- (SQLite's), whatever the database's collation.
SELECT recipient FROM exchange_recipient WHERE kind = $1 AND channel = $2
ORDER BY recipient COLLATE "C"

-- Removes every recipient of kind $1 ('sender' or 'subscriber') from channel $2.
DELETE FROM exchange_recipient WHERE kind = $1 AND channel = $2

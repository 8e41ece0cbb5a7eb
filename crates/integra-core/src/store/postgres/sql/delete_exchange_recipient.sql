-- Removes recipient $3 of kind $1 ('sender' or 'subscriber') from channel $2.
DELETE FROM exchange_recipient WHERE kind = $1 AND channel = $2 AND recipient = $3

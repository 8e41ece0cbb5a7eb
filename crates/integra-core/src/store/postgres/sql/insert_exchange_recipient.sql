-- Adds recipient $3 of kind $1 ('sender' or 'subscriber') to channel $2, unless it is there.
INSERT INTO exchange_recipient (kind, channel, recipient) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING

INSERT INTO exchange_recipient (kind, channel, recipient) VALUES (?1, ?2, ?3)
ON CONFLICT DO NOTHING

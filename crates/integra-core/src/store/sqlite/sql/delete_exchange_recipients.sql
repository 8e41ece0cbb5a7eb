DELETE FROM exchange_recipient WHERE kind = ?1 AND channel = ?2

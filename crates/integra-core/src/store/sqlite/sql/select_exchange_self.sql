SELECT code, name FROM exchange_self WHERE id = 1

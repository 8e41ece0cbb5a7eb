-- This base's code and name as an endpoint, if they were made.
SELECT code, name FROM exchange_self WHERE id = 1

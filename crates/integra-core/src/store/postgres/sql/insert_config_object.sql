-- Stores configuration object $2 of kind $1 at position $3 of its kind, its JSON $4.
INSERT INTO config_object (kind, code, position, body) VALUES ($1, $2, $3, $4)

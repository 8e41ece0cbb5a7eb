-- Makes this base's identity once: code $1, name $2; later calls keep the code and bring
-- the name up to date with the configuration.
INSERT INTO exchange_self (id, code, name) VALUES (1, $1, $2)
ON CONFLICT (id) DO UPDATE SET name = excluded.name
WHERE exchange_self.name <> excluded.name

-- A write that changes nothing of the queues, to learn whether the database can be written.
INSERT INTO meta (key, value) VALUES ('write_probe', 0)
ON CONFLICT (key) DO UPDATE SET value = 1 - meta.value

-- A write that changes nothing of the queues, to learn whether the database can be written
-- (a read-only standby, a full disk or a lost connection fail it).
INSERT INTO meta (key, value) VALUES ('write_probe', 0)
ON CONFLICT (key) DO UPDATE SET value = 1 - meta.value

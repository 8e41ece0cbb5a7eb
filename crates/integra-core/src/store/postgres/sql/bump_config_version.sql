-- Counts a change of the configuration: returns the new version number.
UPDATE meta SET value = value + 1 WHERE key = 'config_version' RETURNING value

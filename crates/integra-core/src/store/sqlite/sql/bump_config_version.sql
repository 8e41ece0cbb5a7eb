UPDATE meta SET value = value + 1 WHERE key = 'config_version' RETURNING value

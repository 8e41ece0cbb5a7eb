SELECT value FROM meta WHERE key = 'config_version'

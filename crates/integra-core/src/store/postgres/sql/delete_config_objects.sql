-- Removes every configuration object (before the new configuration is inserted).
DELETE FROM config_object

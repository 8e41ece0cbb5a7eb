DELETE FROM config_object

SELECT kind, code, body FROM config_object ORDER BY kind, position

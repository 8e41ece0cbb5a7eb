-- The configuration's version number (bumped by every change).
SELECT value FROM meta WHERE key = 'config_version'

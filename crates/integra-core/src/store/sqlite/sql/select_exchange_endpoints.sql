SELECT code, name, url, username, password, blocked FROM exchange_endpoint ORDER BY name, code

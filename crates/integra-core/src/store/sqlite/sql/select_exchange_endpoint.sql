SELECT code, name, url, username, password, blocked FROM exchange_endpoint WHERE code = ?1

-- Every configuration object: kind, code, JSON body; by kind, in their order.
SELECT kind, code, body FROM config_object ORDER BY kind, position

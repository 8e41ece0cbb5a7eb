DELETE FROM named_lease WHERE name = ?1 AND owner = ?2

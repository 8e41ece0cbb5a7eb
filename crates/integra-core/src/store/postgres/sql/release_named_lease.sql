-- Gives up owner $2's lease $1.
DELETE FROM named_lease WHERE name = $1 AND owner = $2

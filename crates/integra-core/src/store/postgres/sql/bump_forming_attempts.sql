-- Counts a forming attempt of message $1 made outside a claim.
UPDATE message SET attempts = attempts + 1 WHERE id = $1

-- The uuid of incoming message $2 of flow $1 (the sender's message id), if it was stored.
SELECT uuid FROM incoming WHERE flow = $1 AND message_id = $2

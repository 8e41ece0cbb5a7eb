-- What a transition of incoming message $1 (its uuid) needs: id, flow, status, attempts,
-- updated.
SELECT id, flow, status, attempts, updated_at FROM incoming WHERE uuid = $1

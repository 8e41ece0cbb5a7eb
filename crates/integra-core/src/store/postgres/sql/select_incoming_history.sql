-- The history of incoming message row $1, in the order it was written: at, status, attempt,
-- detail.
SELECT at, status, attempt, detail FROM incoming_history WHERE incoming_id = $1 ORDER BY id

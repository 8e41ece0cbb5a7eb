-- The latest $2 rejections of flow $1, newest first: id, flow, source, message id, reason,
-- payload, at.
SELECT id, flow, source, message_id, reason, payload, at FROM incoming_rejection
WHERE flow = $1 ORDER BY id DESC LIMIT $2

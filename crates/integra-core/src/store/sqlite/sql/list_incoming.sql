-- Incoming messages matching every filter that is not NULL, newest first, before sequence
-- number ?5, at most ?6: ?1 flow, ?2 status, ?3/?4 accepted from/to. Without their bodies.
SELECT id, uuid, flow, message_id, status, attempts, last_error, created_at, updated_at
FROM incoming
WHERE (?1 IS NULL OR flow = ?1)
  AND (?2 IS NULL OR status = ?2)
  AND (?3 IS NULL OR created_at >= ?3)
  AND (?4 IS NULL OR created_at < ?4)
  AND (?5 IS NULL OR id < ?5)
ORDER BY id DESC
LIMIT ?6 + 0

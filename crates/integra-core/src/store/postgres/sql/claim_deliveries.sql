-- Claims for owner $1 (lease until $2) up to $5 deliveries due at $3 to the subscribers in
-- the JSON array $4 (those this process can deliver to), counting the attempt now. A
-- delivery with an ordering key waits while an earlier message with the same key is
-- unfinished for the same subscriber, or not yet fanned out. Returns id, message row id,
-- subscriber, attempts.
--
-- The rows are picked and locked first (FOR UPDATE SKIP LOCKED, in a CTE the planner never
-- inlines), then updated: a row another transaction is claiming is skipped, and one it
-- claimed since this statement's snapshot is re-checked and dropped, so nothing is claimed
-- twice. Fewer than $5 rows does not mean nothing more is due. The ordering rule only waits
-- on earlier rows, which every snapshot sees unfinished until they are: it holds at READ
-- COMMITTED, provided messages with the same ordering key are registered in id order (the
-- registering transaction takes lock_ordering_key first).
WITH picked AS (
    SELECT d.id FROM delivery AS d
    WHERE d.status IN ('new', 'send_error') AND d.next_attempt_at <= $3
      AND d.subscriber = ANY (ARRAY(SELECT json_array_elements_text($4::text::json)))
      AND (d.ordering_key IS NULL OR (
          NOT EXISTS (
              SELECT 1 FROM delivery AS p
              WHERE p.subscriber = d.subscriber AND p.ordering_key = d.ordering_key
                AND p.message_id < d.message_id
                AND p.status IN ('new', 'in_progress', 'send_error', 'dead'))
          AND NOT EXISTS (
              SELECT 1 FROM message AS m
              WHERE m.flow = d.flow AND m.ordering_key = d.ordering_key AND m.id < d.message_id
                AND m.status IN ('new', 'forming', 'forming_error', 'ready', 'dead'))))
    ORDER BY d.next_attempt_at, d.id
    LIMIT $5
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE delivery AS t
SET status = 'in_progress', attempts = t.attempts + 1, lease_owner = $1, lease_until = $2,
    updated_at = $3
FROM picked
WHERE t.id = picked.id
RETURNING t.id, t.message_id, t.subscriber, t.attempts

-- The flows and statuses that hold rows of kind $1 (message or incoming), from the counts
-- the triggers keep (summed over the writers' shards): where a cleanup may find something,
-- without reading the queue.
SELECT flow, status FROM queue_count
WHERE kind = $1 AND subscriber = ''
GROUP BY flow, status
HAVING sum(n) > 0

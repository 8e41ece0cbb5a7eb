-- The flows and statuses that hold rows of kind ?1 (message or incoming), from the
-- counts the triggers keep: where a cleanup may find something, without reading the queue.
SELECT flow, status FROM queue_count WHERE kind = ?1 AND subscriber = '' AND n > 0

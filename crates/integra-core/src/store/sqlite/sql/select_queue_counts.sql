-- Row counts by kind, flow, subscriber and status (kept by triggers).
SELECT kind, flow, subscriber, status, n FROM queue_count WHERE n > 0

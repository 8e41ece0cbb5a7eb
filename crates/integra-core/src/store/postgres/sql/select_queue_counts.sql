-- Row counts by kind, flow, subscriber and status (kept by triggers, summed over the
-- writers' shards); only those above zero.
SELECT kind, flow, subscriber, status, sum(n)::bigint FROM queue_count
GROUP BY kind, flow, subscriber, status
HAVING sum(n) > 0

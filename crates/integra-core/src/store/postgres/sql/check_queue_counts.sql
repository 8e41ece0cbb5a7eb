-- The maintained counts (queue_count, kept by triggers, summed over the writers' shards)
-- that disagree with the rows they count (at most $4): $1, $2 and $3 are the kinds of
-- messages, deliveries and incoming messages. Kind, flow, subscriber, status, the count
-- kept, the rows there are.
WITH actual (kind, flow, subscriber, status, n) AS (
    SELECT $1::text, flow, '', status, count(*) FROM message GROUP BY flow, status
    UNION ALL
    SELECT $2::text, flow, subscriber, status, count(*) FROM delivery
    GROUP BY flow, subscriber, status
    UNION ALL
    SELECT $3::text, flow, '', status, count(*) FROM incoming GROUP BY flow, status
),
kept (kind, flow, subscriber, status, n) AS (
    SELECT kind, flow, subscriber, status, sum(n)::bigint FROM queue_count
    GROUP BY kind, flow, subscriber, status
)
SELECT coalesce(a.kind, k.kind), coalesce(a.flow, k.flow),
       coalesce(a.subscriber, k.subscriber), coalesce(a.status, k.status),
       coalesce(k.n, 0), coalesce(a.n, 0)
FROM actual AS a
FULL JOIN kept AS k
    ON k.kind = a.kind AND k.flow = a.flow AND k.subscriber = a.subscriber
   AND k.status = a.status
WHERE coalesce(k.n, 0) <> coalesce(a.n, 0)
LIMIT $4

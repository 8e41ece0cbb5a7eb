-- The flows that have rejections, one index probe each (a loose index scan of
-- incoming_rejection_by_flow): never a read of every rejection.
WITH RECURSIVE flows (flow) AS (
    SELECT min(flow) FROM incoming_rejection
    UNION ALL
    SELECT (SELECT min(r.flow) FROM incoming_rejection AS r WHERE r.flow > flows.flow)
    FROM flows WHERE flows.flow IS NOT NULL
)
SELECT flow FROM flows WHERE flow IS NOT NULL

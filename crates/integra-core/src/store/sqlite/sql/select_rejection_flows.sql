-- The flows that have rejections, one index seek each (a loose index scan of
-- incoming_rejection_by_flow): never a read of every rejection.
WITH RECURSIVE flows (flow) AS (
    SELECT MIN(flow) FROM incoming_rejection
    UNION ALL
    SELECT (SELECT MIN(flow) FROM incoming_rejection WHERE flow > flows.flow)
    FROM flows WHERE flows.flow IS NOT NULL
)
SELECT flow FROM flows WHERE flow IS NOT NULL

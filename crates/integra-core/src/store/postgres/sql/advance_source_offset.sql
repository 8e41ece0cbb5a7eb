-- Moves partition $3 of topic $2, read by flow $1, from offset $4 to $5 (at $6). Changes
-- nothing (and returns no row) when the stored offset is not $4: another reader got there
-- first.
INSERT INTO source_offset (flow, topic, partition, next_offset, updated_at)
VALUES ($1, $2, $3, $5, $6)
ON CONFLICT (flow, topic, partition) DO UPDATE
SET next_offset = excluded.next_offset, updated_at = excluded.updated_at
WHERE source_offset.next_offset = $4
RETURNING next_offset

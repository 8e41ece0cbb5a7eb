-- The next offset to read of each partition of topic $2 that flow $1 reads: partition,
-- offset.
SELECT partition, next_offset FROM source_offset WHERE flow = $1 AND topic = $2

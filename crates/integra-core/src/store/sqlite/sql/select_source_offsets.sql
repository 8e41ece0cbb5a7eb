SELECT partition, next_offset FROM source_offset WHERE flow = ?1 AND topic = ?2

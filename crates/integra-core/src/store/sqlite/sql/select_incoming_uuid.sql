SELECT uuid FROM incoming WHERE flow = ?1 AND message_id = ?2

SELECT etag, last_modified, cursor FROM poll_state WHERE flow = ?1

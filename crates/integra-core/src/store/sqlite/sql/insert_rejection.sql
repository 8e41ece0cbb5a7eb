INSERT INTO incoming_rejection (flow, source, message_id, reason, payload, at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)

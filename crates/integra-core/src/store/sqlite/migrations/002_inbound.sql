-- Integra schema, version 2: listeners in the configuration, and what inbound sources keep
-- between runs.

-- Listeners join the configuration objects (SQLite cannot change a CHECK in place).
CREATE TABLE config_object_v2 (
    kind     TEXT NOT NULL
             CHECK (kind IN ('endpoint', 'subscriber', 'flow', 'schema', 'listener')),
    code     TEXT NOT NULL,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (kind, code)
) WITHOUT ROWID;
INSERT INTO config_object_v2 (kind, code, position, body)
    SELECT kind, code, position, body FROM config_object;
DROP TABLE config_object;
ALTER TABLE config_object_v2 RENAME TO config_object;

-- Which process runs a flow's source (one at a time), until when, and how it last went.
CREATE TABLE source_lease (
    flow        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    last_error  TEXT,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- The next offset to read of each Kafka partition a flow reads, written in the same
-- transaction as the records read before it.
CREATE TABLE source_offset (
    flow        TEXT NOT NULL,
    topic       TEXT NOT NULL,
    partition   INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (flow, topic, partition)
) WITHOUT ROWID;

-- What a poll source carries from one poll to the next.
CREATE TABLE poll_state (
    flow          TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    cursor        TEXT,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

-- Messages a source received that were not valid for their flow: kept for people to see,
-- removed with the flow's dead retention.
CREATE TABLE incoming_rejection (
    id         INTEGER PRIMARY KEY,
    flow       TEXT NOT NULL,
    source     TEXT NOT NULL,
    message_id TEXT,
    reason     TEXT NOT NULL,
    payload    TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX incoming_rejection_by_flow ON incoming_rejection (flow, at);

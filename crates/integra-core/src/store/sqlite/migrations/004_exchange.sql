-- Integra schema, version 4: the message exchange (the 1C SSL «Обмен сообщениями» API):
-- this base's identity, the endpoints it exchanges with, who receives each channel, the
-- messages sent and received, and named leases.

-- The exchange's settings join the configuration objects.
CREATE TABLE config_object_v4 (
    kind     TEXT NOT NULL
             CHECK (kind IN ('endpoint', 'subscriber', 'flow', 'schema', 'listener', 'exchange')),
    code     TEXT NOT NULL,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (kind, code)
) WITHOUT ROWID;
INSERT INTO config_object_v4 (kind, code, position, body)
    SELECT kind, code, position, body FROM config_object;
DROP TABLE config_object;
ALTER TABLE config_object_v4 RENAME TO config_object;

-- This base as an endpoint: its code (a UUID, made once) and its name.
CREATE TABLE exchange_self (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    code TEXT NOT NULL,
    name TEXT NOT NULL
);

-- The other bases: how to reach each (its URL and the credentials it gave us).
CREATE TABLE exchange_endpoint (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    username   TEXT NOT NULL,
    password   TEXT NOT NULL,
    blocked    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Who receives a channel: the sender's settings for addressed channels (kind 'sender')
-- and the subscribers of broadcast channels (kind 'subscriber').
CREATE TABLE exchange_recipient (
    kind      TEXT NOT NULL CHECK (kind IN ('sender', 'subscriber')),
    channel   TEXT NOT NULL,
    recipient TEXT NOT NULL,
    PRIMARY KEY (kind, channel, recipient)
) WITHOUT ROWID;

-- Messages to other endpoints, one row per recipient. `kind` is 'message' for a channel
-- message, or a control notice: 'done' (a message was processed), 'subscribe',
-- 'unsubscribe'.
CREATE TABLE exchange_outbox (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    quick           INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK {{outbox_status:status}},
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (uuid, recipient),
    CHECK ((status = 'sending') = (lease_until IS NOT NULL))
);
-- Each recipient's undelivered messages in the order they were sent: the oldest decides
-- when the recipient is due, and the ones behind it go along.
CREATE INDEX exchange_outbox_undelivered ON exchange_outbox (recipient, id)
    WHERE status IN ('pending', 'sending');
CREATE INDEX exchange_outbox_quick ON exchange_outbox (recipient, id)
    WHERE status = 'pending' AND quick = 1;
CREATE INDEX exchange_outbox_in_flight ON exchange_outbox (recipient, lease_until)
    WHERE status = 'sending';
CREATE INDEX exchange_outbox_done ON exchange_outbox (updated_at) WHERE status = 'done';

-- Messages from other endpoints, each (sender, message id) once, in arrival order. A failed
-- handling attempt puts the next one off (`next_attempt_at`).
CREATE TABLE exchange_inbox (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL,
    sender          TEXT NOT NULL,
    channel         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK {{inbox_status:status}},
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (sender, uuid),
    CHECK ((status = 'in_progress') = (lease_until IS NOT NULL))
);
CREATE INDEX exchange_inbox_waiting ON exchange_inbox (sender, channel, id)
    WHERE status IN ('new', 'in_progress');
CREATE INDEX exchange_inbox_uuid ON exchange_inbox (uuid);
CREATE INDEX exchange_inbox_lease ON exchange_inbox (lease_until)
    WHERE status = 'in_progress';
CREATE INDEX exchange_inbox_finished ON exchange_inbox (updated_at)
    WHERE status IN ('processed', 'quarantined');

-- Leases on a job that one process at a time may run, by name (`deliver_messages`).
CREATE TABLE named_lease (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    lease_until INTEGER NOT NULL
) WITHOUT ROWID;

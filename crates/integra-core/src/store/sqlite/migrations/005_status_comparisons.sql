-- Integra schema, version 5: status checks as comparisons rather than IN lists.
--
-- SQLite evaluates `status IN ('a', 'b', 'c')` (three values or more) by building a
-- temporary table each time a statement runs. Every CHECK constraint and partial-index
-- condition written that way did so on every insert and status change: about fifteen
-- temporary tables per registered message, half the cost of registering it. The same
-- conditions written as `(status = 'a' OR status = 'b' OR …)` cost a few comparisons.
--
-- SQLite cannot change a CHECK constraint in place, so each table is rebuilt (the
-- documented twelve-step procedure: new table, copy, drop, rename), with its indexes and
-- triggers. Row ids are kept, history order with them.

-- Outgoing messages.
CREATE TABLE message_v5 (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    flow            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK {{message_status:status}},
    object_key      TEXT,
    ordering_key    TEXT,
    allow_duplicate INTEGER NOT NULL DEFAULT 0,
    source          TEXT NOT NULL,
    payload         TEXT,             -- NULL while unformed, and when the source is the payload
    payload_hash    BLOB,             -- canonical-JSON SHA-256 of a formed payload with an object key
    attempts        INTEGER NOT NULL DEFAULT 0,   -- forming attempts, counted at claim
    next_attempt_at INTEGER NOT NULL, -- forming is due from then
    not_before      INTEGER,          -- delayed delivery: no delivery before then
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK ((status = 'forming') = (lease_until IS NOT NULL))
);
INSERT INTO message_v5 SELECT * FROM message;
DROP TABLE message;
ALTER TABLE message_v5 RENAME TO message;

CREATE INDEX message_to_form ON message (next_attempt_at)
    WHERE status IN ('new', 'forming_error');
CREATE INDEX message_forming_lease ON message (lease_until)
    WHERE status = 'forming';
CREATE INDEX message_waiting_object ON message (flow, object_key)
    WHERE status IN ('new', 'forming_error') AND object_key IS NOT NULL;
-- The statements that use the two indexes below repeat their conditions word for word, so
-- SQLite sees that the index applies.
CREATE INDEX message_unfanned_key ON message (flow, ordering_key, id)
    WHERE ordering_key IS NOT NULL
      AND (status = 'new' OR status = 'forming' OR status = 'forming_error' OR status = 'ready'
           OR status = 'dead');
CREATE INDEX message_finished ON message (flow, updated_at)
    WHERE (status = 'sent' OR status = 'undelivered' OR status = 'cancelled' OR status = 'dead');
CREATE INDEX message_pending_age ON message (flow, created_at)
    WHERE status IN ('new', 'forming_error');

-- Deliveries.
CREATE TABLE delivery_v5 (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL,  -- message.id
    subscriber      TEXT NOT NULL,
    flow            TEXT NOT NULL,
    ordering_key    TEXT,
    status          TEXT NOT NULL CHECK {{delivery_status:status}},
    attempts        INTEGER NOT NULL DEFAULT 0,   -- counted at claim
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (message_id, subscriber),
    CHECK ((status = 'in_progress') = (lease_until IS NOT NULL))
);
INSERT INTO delivery_v5 SELECT * FROM delivery;
DROP TABLE delivery;
ALTER TABLE delivery_v5 RENAME TO delivery;

CREATE INDEX delivery_due ON delivery (next_attempt_at)
    WHERE status IN ('new', 'send_error');
CREATE INDEX delivery_lease ON delivery (lease_until)
    WHERE status = 'in_progress';
CREATE INDEX delivery_key ON delivery (subscriber, ordering_key, message_id)
    WHERE ordering_key IS NOT NULL;
CREATE INDEX delivery_pending_age ON delivery (flow, created_at)
    WHERE status IN ('new', 'send_error');

-- Every transition of a message (subscriber NULL) or of one of its deliveries.
CREATE TABLE message_history_v5 (
    message_id INTEGER NOT NULL,
    subscriber TEXT,
    at         INTEGER NOT NULL,
    status     TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    detail     TEXT,
    CHECK ((subscriber IS NULL AND {{message_status:status}})
        OR (subscriber IS NOT NULL AND {{delivery_status:status}}))
);
INSERT INTO message_history_v5 (rowid, message_id, subscriber, at, status, attempt, detail)
    SELECT rowid, message_id, subscriber, at, status, attempt, detail FROM message_history;
DROP TABLE message_history;
ALTER TABLE message_history_v5 RENAME TO message_history;

CREATE INDEX message_history_by_message ON message_history (message_id);

-- Incoming messages.
CREATE TABLE incoming_v5 (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    flow            TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK {{incoming_status:status}},
    payload         TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    headers         TEXT NOT NULL,    -- JSON object
    ordering_key    TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (flow, message_id),
    CHECK ((status = 'in_progress') = (lease_until IS NOT NULL))
);
INSERT INTO incoming_v5 SELECT * FROM incoming;
DROP TABLE incoming;
ALTER TABLE incoming_v5 RENAME TO incoming;

CREATE INDEX incoming_due ON incoming (next_attempt_at)
    WHERE status IN ('new', 'error');
CREATE INDEX incoming_lease ON incoming (lease_until)
    WHERE status = 'in_progress';
CREATE INDEX incoming_key ON incoming (flow, ordering_key, id)
    WHERE ordering_key IS NOT NULL;
CREATE INDEX incoming_finished ON incoming (flow, updated_at)
    WHERE status IN ('processed', 'dead');
CREATE INDEX incoming_pending_age ON incoming (flow, created_at)
    WHERE status IN ('new', 'error');

CREATE TABLE incoming_history_v5 (
    incoming_id INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK {{incoming_status:status}},
    attempt     INTEGER NOT NULL,
    detail      TEXT
);
INSERT INTO incoming_history_v5 (rowid, incoming_id, at, status, attempt, detail)
    SELECT rowid, incoming_id, at, status, attempt, detail FROM incoming_history;
DROP TABLE incoming_history;
ALTER TABLE incoming_history_v5 RENAME TO incoming_history;

CREATE INDEX incoming_history_by_incoming ON incoming_history (incoming_id);

-- Row counts by status (written by the triggers below on every change).
CREATE TABLE queue_count_v5 (
    kind       TEXT NOT NULL
               CHECK (kind = 'message' OR kind = 'delivery' OR kind = 'incoming'),
    flow       TEXT NOT NULL,
    subscriber TEXT NOT NULL,  -- '' except for deliveries
    status     TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (kind, flow, subscriber, status)
) WITHOUT ROWID;
INSERT INTO queue_count_v5 SELECT * FROM queue_count;
DROP TABLE queue_count;
ALTER TABLE queue_count_v5 RENAME TO queue_count;

-- The triggers that keep the counts (dropped with their tables), as in version 3.
CREATE TRIGGER message_counted_in AFTER INSERT ON message BEGIN
    INSERT INTO queue_count (kind, flow, subscriber, status, n)
    VALUES ('message', NEW.flow, '', NEW.status, 1)
    ON CONFLICT (kind, flow, subscriber, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER message_counted_move AFTER UPDATE OF status ON message
WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE queue_count SET n = n - 1
    WHERE kind = 'message' AND flow = OLD.flow AND subscriber = '' AND status = OLD.status;
    INSERT INTO queue_count (kind, flow, subscriber, status, n)
    VALUES ('message', NEW.flow, '', NEW.status, 1)
    ON CONFLICT (kind, flow, subscriber, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER message_counted_out AFTER DELETE ON message BEGIN
    UPDATE queue_count SET n = n - 1
    WHERE kind = 'message' AND flow = OLD.flow AND subscriber = '' AND status = OLD.status;
END;

CREATE TRIGGER delivery_counted_in AFTER INSERT ON delivery BEGIN
    INSERT INTO queue_count (kind, flow, subscriber, status, n)
    VALUES ('delivery', NEW.flow, NEW.subscriber, NEW.status, 1)
    ON CONFLICT (kind, flow, subscriber, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER delivery_counted_move AFTER UPDATE OF status ON delivery
WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE queue_count SET n = n - 1
    WHERE kind = 'delivery' AND flow = OLD.flow AND subscriber = OLD.subscriber
      AND status = OLD.status;
    INSERT INTO queue_count (kind, flow, subscriber, status, n)
    VALUES ('delivery', NEW.flow, NEW.subscriber, NEW.status, 1)
    ON CONFLICT (kind, flow, subscriber, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER delivery_counted_out AFTER DELETE ON delivery BEGIN
    UPDATE queue_count SET n = n - 1
    WHERE kind = 'delivery' AND flow = OLD.flow AND subscriber = OLD.subscriber
      AND status = OLD.status;
END;

CREATE TRIGGER incoming_counted_in AFTER INSERT ON incoming BEGIN
    INSERT INTO queue_count (kind, flow, subscriber, status, n)
    VALUES ('incoming', NEW.flow, '', NEW.status, 1)
    ON CONFLICT (kind, flow, subscriber, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER incoming_counted_move AFTER UPDATE OF status ON incoming
WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE queue_count SET n = n - 1
    WHERE kind = 'incoming' AND flow = OLD.flow AND subscriber = '' AND status = OLD.status;
    INSERT INTO queue_count (kind, flow, subscriber, status, n)
    VALUES ('incoming', NEW.flow, '', NEW.status, 1)
    ON CONFLICT (kind, flow, subscriber, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER incoming_counted_out AFTER DELETE ON incoming BEGIN
    UPDATE queue_count SET n = n - 1
    WHERE kind = 'incoming' AND flow = OLD.flow AND subscriber = '' AND status = OLD.status;
END;

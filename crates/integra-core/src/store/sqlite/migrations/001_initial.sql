-- Integra schema, version 1.
-- Times are integer milliseconds since the Unix epoch (UTC). Status lists in CHECK
-- constraints are filled in from the Rust status enums (see store/migrate.rs).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES ('config_version', 0);

-- One row per configuration object, its validated JSON in `body`.
CREATE TABLE config_object (
    kind     TEXT NOT NULL CHECK (kind IN ('endpoint', 'subscriber', 'flow', 'schema')),
    code     TEXT NOT NULL,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (kind, code)
) WITHOUT ROWID;

-- Outgoing messages. `id` is the registration order; `uuid` the public message id.
CREATE TABLE message (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    flow            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ({{message_status}})),
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

CREATE INDEX message_to_form ON message (next_attempt_at)
    WHERE status IN ('new', 'forming_error');
CREATE INDEX message_forming_lease ON message (lease_until)
    WHERE status = 'forming';
CREATE INDEX message_waiting_object ON message (flow, object_key)
    WHERE status IN ('new', 'forming_error') AND object_key IS NOT NULL;
CREATE INDEX message_unfanned_key ON message (flow, ordering_key, id)
    WHERE ordering_key IS NOT NULL AND status IN ('new', 'forming', 'forming_error', 'ready', 'dead');
CREATE INDEX message_finished ON message (flow, updated_at)
    WHERE status IN ('sent', 'undelivered', 'cancelled', 'dead');

-- One row per (message, subscriber): the delivery with its own status and retries.
CREATE TABLE delivery (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL,  -- message.id
    subscriber      TEXT NOT NULL,
    flow            TEXT NOT NULL,
    ordering_key    TEXT,
    status          TEXT NOT NULL CHECK (status IN ({{delivery_status}})),
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

CREATE INDEX delivery_due ON delivery (next_attempt_at)
    WHERE status IN ('new', 'send_error');
CREATE INDEX delivery_lease ON delivery (lease_until)
    WHERE status = 'in_progress';
CREATE INDEX delivery_key ON delivery (subscriber, ordering_key, message_id)
    WHERE ordering_key IS NOT NULL;

-- Every transition of a message (subscriber NULL) or of one of its deliveries.
CREATE TABLE message_history (
    message_id INTEGER NOT NULL,
    subscriber TEXT,
    at         INTEGER NOT NULL,
    status     TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    detail     TEXT,
    CHECK ((subscriber IS NULL AND status IN ({{message_status}}))
        OR (subscriber IS NOT NULL AND status IN ({{delivery_status}})))
);

CREATE INDEX message_history_by_message ON message_history (message_id);

-- The hash of the payload last delivered per (flow, subscriber, object key).
CREATE TABLE delivered_hash (
    flow         TEXT NOT NULL,
    subscriber   TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    hash         BLOB NOT NULL,
    delivered_at INTEGER NOT NULL,
    PRIMARY KEY (flow, subscriber, object_key)
) WITHOUT ROWID;

-- Incoming messages, stored once per (flow, sender's message id).
CREATE TABLE incoming (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    flow            TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ({{incoming_status}})),
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

CREATE INDEX incoming_due ON incoming (next_attempt_at)
    WHERE status IN ('new', 'error');
CREATE INDEX incoming_lease ON incoming (lease_until)
    WHERE status = 'in_progress';
CREATE INDEX incoming_key ON incoming (flow, ordering_key, id)
    WHERE ordering_key IS NOT NULL;
CREATE INDEX incoming_finished ON incoming (flow, updated_at)
    WHERE status IN ('processed', 'dead');

CREATE TABLE incoming_history (
    incoming_id INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ({{incoming_status}})),
    attempt     INTEGER NOT NULL,
    detail      TEXT
);

CREATE INDEX incoming_history_by_incoming ON incoming_history (incoming_id);

-- (system, object type, local key) <-> external id, unique both ways.
CREATE TABLE external_id (
    system      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    local_key   TEXT NOT NULL,
    external_id TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (system, object_type, local_key)
) WITHOUT ROWID;

CREATE UNIQUE INDEX external_id_reverse ON external_id (system, object_type, external_id);

-- The last good copy of each external schema, shared by every process on the file.
CREATE TABLE schema_copy (
    code          TEXT PRIMARY KEY,
    source        TEXT NOT NULL,    -- the address the copy came from
    document      TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    fetched_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL, -- revalidate after this
    last_error    TEXT              -- why the latest refresh failed, if it did
) WITHOUT ROWID;

-- Integra schema, version 7: each subscriber's health (issue 18), one row per subscriber,
-- updated once per recorded batch of deliveries: when a delivery last succeeded, when one
-- last failed and why, and how many attempts in a row have failed since.

CREATE TABLE subscriber_health (
    subscriber           TEXT PRIMARY KEY,
    last_success_at      INTEGER,
    last_failure_at      INTEGER,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

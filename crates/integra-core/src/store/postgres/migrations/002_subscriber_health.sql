-- Integra schema, version 2: each subscriber's health (SQLite's migration 007), one row per
-- subscriber, updated once per recorded batch of deliveries: when a delivery last succeeded,
-- when one last failed and why, and how many attempts in a row have failed since.

CREATE TABLE subscriber_health (
    subscriber           TEXT PRIMARY KEY,
    last_success_at      BIGINT,
    last_failure_at      BIGINT,
    last_error           TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0
);

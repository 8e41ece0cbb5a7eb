-- Integra schema, version 6: finished records found by status as well as flow and age.
--
-- Cleanup removes sent and cancelled messages after one retention and dead and undelivered
-- ones after a longer one. With the status after the flow in these indexes, each
-- (flow, status) is one range of the index, so a cleanup walks only what it removes: with
-- the status out of the index, every dead message still inside its longer retention was
-- read again by every cleanup.

DROP INDEX message_finished;
CREATE INDEX message_finished ON message (flow, status, updated_at)
    WHERE (status = 'sent' OR status = 'undelivered' OR status = 'cancelled' OR status = 'dead');

DROP INDEX incoming_finished;
CREATE INDEX incoming_finished ON incoming (flow, status, updated_at)
    WHERE status IN ('processed', 'dead');

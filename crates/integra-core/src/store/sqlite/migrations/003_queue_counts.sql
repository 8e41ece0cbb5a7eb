-- Integra schema, version 3: row counts by status, kept by triggers in the same transaction
-- as every change, so reading the queues' depth (metrics, `counts`) never scans the queues;
-- and indexes that find the oldest pending row of a flow without scanning.

CREATE TABLE queue_count (
    kind       TEXT NOT NULL CHECK (kind IN ('message', 'delivery', 'incoming')),
    flow       TEXT NOT NULL,
    subscriber TEXT NOT NULL,  -- '' except for deliveries
    status     TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (kind, flow, subscriber, status)
) WITHOUT ROWID;

INSERT INTO queue_count (kind, flow, subscriber, status, n)
    SELECT 'message', flow, '', status, COUNT(*) FROM message GROUP BY flow, status;
INSERT INTO queue_count (kind, flow, subscriber, status, n)
    SELECT 'delivery', flow, subscriber, status, COUNT(*) FROM delivery
    GROUP BY flow, subscriber, status;
INSERT INTO queue_count (kind, flow, subscriber, status, n)
    SELECT 'incoming', flow, '', status, COUNT(*) FROM incoming GROUP BY flow, status;

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

-- The oldest pending row of a flow: waiting to be formed, to be sent, to be processed.
CREATE INDEX message_pending_age ON message (flow, created_at)
    WHERE status IN ('new', 'forming_error');
CREATE INDEX delivery_pending_age ON delivery (flow, created_at)
    WHERE status IN ('new', 'send_error');
CREATE INDEX incoming_pending_age ON incoming (flow, created_at)
    WHERE status IN ('new', 'error');

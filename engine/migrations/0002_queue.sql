-- The real queue: its claim index, sorting by priority, and counts kept by triggers so that list totals and
-- statistics do not count a million rows on every request.

-- Claiming walks due work in claim order (priority, then oldest) and stops after a batch; the settled
-- statuses, the bulk of the table, are not in this index at all. It replaces operations_due, which the claim
-- cannot walk in order (next_retry_at sits between priority and created_at) and which every status change
-- had to maintain.
CREATE INDEX operations_claim ON operations (priority DESC, created_at, id) WHERE status IN ('pending', 'failed');
DROP INDEX operations_due;

-- GET /operations?sort=priority: highest priority first, then newest.
CREATE INDEX operations_tenant_priority ON operations (tenant_id, priority DESC, created_at DESC);

-- How many operations there are per tenant, connector, status, type and UTC day of creation, and for the
-- completed ones how long they took (seconds from started_at to completed_at, summed, and how many had both).
-- Kept by the triggers below in the same transaction as every write to operations, so it is always exact;
-- list totals add up days from here and count only the partial days at the ends of a date range.
CREATE TABLE operation_counts (
    tenant_id      TEXT NOT NULL,
    connector_id   TEXT NOT NULL,
    status         TEXT NOT NULL,
    operation_type TEXT NOT NULL,
    day            TEXT NOT NULL,       -- YYYY-MM-DD, the first ten characters of created_at
    count          INTEGER NOT NULL DEFAULT 0,
    busy_seconds   REAL NOT NULL DEFAULT 0,
    timed          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, connector_id, status, operation_type, day)
) WITHOUT ROWID;

INSERT INTO operation_counts (tenant_id, connector_id, status, operation_type, day, count, busy_seconds, timed)
SELECT tenant_id, connector_id, status, operation_type, substr(created_at, 1, 10), COUNT(*),
       TOTAL(CASE WHEN status = 'completed' AND started_at IS NOT NULL AND completed_at IS NOT NULL
                  THEN (julianday(completed_at) - julianday(started_at)) * 86400.0 END),
       COUNT(CASE WHEN status = 'completed' AND started_at IS NOT NULL AND completed_at IS NOT NULL THEN 1 END)
FROM operations
GROUP BY tenant_id, connector_id, status, operation_type, substr(created_at, 1, 10);

CREATE TRIGGER operations_count_insert AFTER INSERT ON operations
BEGIN
    INSERT INTO operation_counts (tenant_id, connector_id, status, operation_type, day, count, busy_seconds, timed)
    VALUES (NEW.tenant_id, NEW.connector_id, NEW.status, NEW.operation_type, substr(NEW.created_at, 1, 10), 1,
            CASE WHEN NEW.status = 'completed' AND NEW.started_at IS NOT NULL AND NEW.completed_at IS NOT NULL
                 THEN (julianday(NEW.completed_at) - julianday(NEW.started_at)) * 86400.0 ELSE 0 END,
            CASE WHEN NEW.status = 'completed' AND NEW.started_at IS NOT NULL AND NEW.completed_at IS NOT NULL
                 THEN 1 ELSE 0 END)
    ON CONFLICT (tenant_id, connector_id, status, operation_type, day) DO UPDATE
        SET count = count + 1, busy_seconds = busy_seconds + excluded.busy_seconds, timed = timed + excluded.timed;
END;

CREATE TRIGGER operations_count_delete AFTER DELETE ON operations
BEGIN
    UPDATE operation_counts
    SET count = count - 1,
        busy_seconds = busy_seconds -
            CASE WHEN OLD.status = 'completed' AND OLD.started_at IS NOT NULL AND OLD.completed_at IS NOT NULL
                 THEN (julianday(OLD.completed_at) - julianday(OLD.started_at)) * 86400.0 ELSE 0 END,
        timed = timed -
            CASE WHEN OLD.status = 'completed' AND OLD.started_at IS NOT NULL AND OLD.completed_at IS NOT NULL
                 THEN 1 ELSE 0 END
    WHERE tenant_id = OLD.tenant_id AND connector_id = OLD.connector_id AND status = OLD.status
      AND operation_type = OLD.operation_type AND day = substr(OLD.created_at, 1, 10);
END;

CREATE TRIGGER operations_count_update
AFTER UPDATE OF tenant_id, connector_id, status, operation_type, created_at, started_at, completed_at ON operations
WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.connector_id IS NOT NEW.connector_id
  OR OLD.status IS NOT NEW.status OR OLD.operation_type IS NOT NEW.operation_type
  OR OLD.created_at IS NOT NEW.created_at
  OR ((OLD.status = 'completed' OR NEW.status = 'completed')
      AND (OLD.started_at IS NOT NEW.started_at OR OLD.completed_at IS NOT NEW.completed_at))
BEGIN
    UPDATE operation_counts
    SET count = count - 1,
        busy_seconds = busy_seconds -
            CASE WHEN OLD.status = 'completed' AND OLD.started_at IS NOT NULL AND OLD.completed_at IS NOT NULL
                 THEN (julianday(OLD.completed_at) - julianday(OLD.started_at)) * 86400.0 ELSE 0 END,
        timed = timed -
            CASE WHEN OLD.status = 'completed' AND OLD.started_at IS NOT NULL AND OLD.completed_at IS NOT NULL
                 THEN 1 ELSE 0 END
    WHERE tenant_id = OLD.tenant_id AND connector_id = OLD.connector_id AND status = OLD.status
      AND operation_type = OLD.operation_type AND day = substr(OLD.created_at, 1, 10);
    INSERT INTO operation_counts (tenant_id, connector_id, status, operation_type, day, count, busy_seconds, timed)
    VALUES (NEW.tenant_id, NEW.connector_id, NEW.status, NEW.operation_type, substr(NEW.created_at, 1, 10), 1,
            CASE WHEN NEW.status = 'completed' AND NEW.started_at IS NOT NULL AND NEW.completed_at IS NOT NULL
                 THEN (julianday(NEW.completed_at) - julianday(NEW.started_at)) * 86400.0 ELSE 0 END,
            CASE WHEN NEW.status = 'completed' AND NEW.started_at IS NOT NULL AND NEW.completed_at IS NOT NULL
                 THEN 1 ELSE 0 END)
    ON CONFLICT (tenant_id, connector_id, status, operation_type, day) DO UPDATE
        SET count = count + 1, busy_seconds = busy_seconds + excluded.busy_seconds, timed = timed + excluded.timed;
END;

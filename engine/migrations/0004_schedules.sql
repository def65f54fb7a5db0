-- Schedules that fire, and the discrepancy trend kept from what runs found.

-- The run a schedule last started, and what the start gate answered the last time it fired
-- (`accepted`, `deduped`, `scope_busy` or `blocked:<reason_code>`).
ALTER TABLE schedules ADD COLUMN last_run_id TEXT;
ALTER TABLE schedules ADD COLUMN last_outcome TEXT;

-- The trend counts every discrepancy on the UTC day its run found it (its `created_at`), per connector and type.
-- The table is kept by triggers in the same transaction as every write to `discrepancies`, so it can never drift
-- from them; nothing else writes it. The rows the demo seed wrote before are replaced by the real counts.
DELETE FROM discrepancy_trend;
INSERT INTO discrepancy_trend (tenant_id, connector_id, day, discrepancy_type, count)
SELECT tenant_id, connector_id, substr(created_at, 1, 10), discrepancy_type, COUNT(*) FROM discrepancies
GROUP BY connector_id, substr(created_at, 1, 10), discrepancy_type;

CREATE TRIGGER discrepancies_trend_insert AFTER INSERT ON discrepancies
BEGIN
    INSERT INTO discrepancy_trend (tenant_id, connector_id, day, discrepancy_type, count)
    VALUES (NEW.tenant_id, NEW.connector_id, substr(NEW.created_at, 1, 10), NEW.discrepancy_type, 1)
    ON CONFLICT (connector_id, day, discrepancy_type) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER discrepancies_trend_delete AFTER DELETE ON discrepancies
BEGIN
    UPDATE discrepancy_trend SET count = count - 1
    WHERE connector_id = OLD.connector_id AND day = substr(OLD.created_at, 1, 10)
      AND discrepancy_type = OLD.discrepancy_type;
END;

-- A discrepancy moved to another day (the demo's history is moved back in time) counts on its new day.
CREATE TRIGGER discrepancies_trend_update AFTER UPDATE OF created_at, discrepancy_type ON discrepancies
    WHEN substr(OLD.created_at, 1, 10) IS NOT substr(NEW.created_at, 1, 10)
      OR OLD.discrepancy_type IS NOT NEW.discrepancy_type
BEGIN
    UPDATE discrepancy_trend SET count = count - 1
    WHERE connector_id = OLD.connector_id AND day = substr(OLD.created_at, 1, 10)
      AND discrepancy_type = OLD.discrepancy_type;
    INSERT INTO discrepancy_trend (tenant_id, connector_id, day, discrepancy_type, count)
    VALUES (NEW.tenant_id, NEW.connector_id, substr(NEW.created_at, 1, 10), NEW.discrepancy_type, 1)
    ON CONFLICT (connector_id, day, discrepancy_type) DO UPDATE SET count = count + 1;
END;

-- The trend of one tenant over a range of days, all connectors or one.
DROP INDEX discrepancy_trend_tenant_day;
CREATE INDEX discrepancy_trend_tenant_day ON discrepancy_trend (tenant_id, day, connector_id);

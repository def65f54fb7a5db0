-- Reconciliation for real: links between identities and accounts, attribute mappings with correlation, and
-- what a run needs to resume and to report.

-- Accounts live in the connector's own system (the directory connector's database); this copy was never used.
DROP TABLE target_accounts;

-- The shadow of an account: which identity it belongs to, per connector. One link per account and per identity.
CREATE TABLE account_links (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    identity_id  TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    external_uid TEXT NOT NULL,
    linked_at    TEXT NOT NULL,
    PRIMARY KEY (connector_id, external_uid),
    UNIQUE (connector_id, identity_id)
) WITHOUT ROWID;

-- Identity attribute → target attribute, per connector. Identity attributes are `email`, `display_name` or a key
-- of `identities.attributes`. Rows with a correlation priority match unlinked accounts to identities, lowest
-- priority first.
CREATE TABLE attribute_mappings (
    connector_id         TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    identity_attribute   TEXT NOT NULL CHECK (length(identity_attribute) BETWEEN 1 AND 128),
    target_attribute     TEXT NOT NULL CHECK (length(target_attribute) BETWEEN 1 AND 128),
    correlation_priority INTEGER CHECK (correlation_priority IS NULL OR correlation_priority >= 0),
    PRIMARY KEY (connector_id, target_attribute)
) WITHOUT ROWID;

-- Delta runs look at identities changed since the last run.
CREATE INDEX identities_tenant_updated ON identities (tenant_id, updated_at);

-- A collision's candidates (a JSON array of identity ids) and the remediation that resolved a discrepancy.
ALTER TABLE discrepancies ADD COLUMN candidates TEXT
    CHECK (candidates IS NULL OR (json_valid(candidates) AND json_type(candidates) = 'array'));
ALTER TABLE discrepancies ADD COLUMN resolved_action TEXT;
-- A run's discrepancies newest first, by type or by resolution (the console's list filters a run), and by
-- identity (a run's missing phase skips identities it already named).
DROP INDEX discrepancies_run;
CREATE INDEX discrepancies_run ON discrepancies (run_id, created_at DESC, id);
CREATE INDEX discrepancies_run_type ON discrepancies (run_id, discrepancy_type, created_at DESC);
CREATE INDEX discrepancies_run_status ON discrepancies (run_id, resolution_status, created_at DESC);
CREATE INDEX discrepancies_run_identity ON discrepancies (run_id, identity_id);

-- A run's plan: what a delta looks at (changes since), and which phase its checkpoint is in; the audit log's
-- filters on result and dry run.
ALTER TABLE reconciliation_runs ADD COLUMN changes_since TEXT;
CREATE INDEX reconciliation_actions_result ON reconciliation_actions (tenant_id, connector_id, result, performed_at DESC);

-- How many discrepancies each run found, by type and resolution, kept by triggers in the same transaction as
-- every write: a run's list totals (filtered by type or resolution) and its report add these up instead of
-- counting a hundred thousand rows.
CREATE TABLE discrepancy_counts (
    run_id            TEXT NOT NULL,
    discrepancy_type  TEXT NOT NULL,
    resolution_status TEXT NOT NULL,
    count             INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, discrepancy_type, resolution_status)
) WITHOUT ROWID;

INSERT INTO discrepancy_counts (run_id, discrepancy_type, resolution_status, count)
SELECT run_id, discrepancy_type, resolution_status, COUNT(*) FROM discrepancies
GROUP BY run_id, discrepancy_type, resolution_status;

CREATE TRIGGER discrepancies_count_insert AFTER INSERT ON discrepancies
BEGIN
    INSERT INTO discrepancy_counts (run_id, discrepancy_type, resolution_status, count)
    VALUES (NEW.run_id, NEW.discrepancy_type, NEW.resolution_status, 1)
    ON CONFLICT (run_id, discrepancy_type, resolution_status) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER discrepancies_count_delete AFTER DELETE ON discrepancies
BEGIN
    UPDATE discrepancy_counts SET count = count - 1
    WHERE run_id = OLD.run_id AND discrepancy_type = OLD.discrepancy_type
      AND resolution_status = OLD.resolution_status;
END;

CREATE TRIGGER discrepancies_count_update AFTER UPDATE OF resolution_status ON discrepancies
    WHEN OLD.resolution_status IS NOT NEW.resolution_status
BEGIN
    UPDATE discrepancy_counts SET count = count - 1
    WHERE run_id = OLD.run_id AND discrepancy_type = OLD.discrepancy_type
      AND resolution_status = OLD.resolution_status;
    INSERT INTO discrepancy_counts (run_id, discrepancy_type, resolution_status, count)
    VALUES (NEW.run_id, NEW.discrepancy_type, NEW.resolution_status, 1)
    ON CONFLICT (run_id, discrepancy_type, resolution_status) DO UPDATE SET count = count + 1;
END;

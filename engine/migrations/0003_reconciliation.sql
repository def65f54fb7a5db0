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
CREATE INDEX discrepancies_run_status ON discrepancies (run_id, resolution_status);

-- A run's plan: what a delta looks at (changes since), and which phase its checkpoint is in; the audit log's
-- filters on result and dry run.
ALTER TABLE reconciliation_runs ADD COLUMN changes_since TEXT;
CREATE INDEX reconciliation_actions_result ON reconciliation_actions (tenant_id, connector_id, result, performed_at DESC);

-- The whole provisioning data model, so later work adds behaviour rather than tables.
--
-- Conventions: ids are uuids as lowercase hyphenated TEXT; times are RFC 3339 UTC TEXT with exactly six
-- fractional digits and a `Z` (e.g. 2026-11-24T07:48:00.123456Z), so text order is time order; booleans are
-- INTEGER 0/1; JSON columns are TEXT checked with json_valid. Every tenant-owned row carries tenant_id, so every
-- query can be scoped by it.

-- Engine-wide key/value settings, e.g. the generated JWT signing secret.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Accounts that log in to the console (admins) or the API.
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,          -- stored lowercased
    display_name  TEXT,
    password_hash TEXT NOT NULL,          -- argon2 PHC string
    roles         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(roles) AND json_type(roles) = 'array'),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    last_login_at TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (tenant_id, email)
);

-- Refresh tokens are single use: a refresh revokes the presented one and records its successor.
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,     -- hex SHA-256 of the token; the token itself is never stored
    family_id   TEXT NOT NULL,            -- the login this rotation chain started from
    issued_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT,
    replaced_by TEXT REFERENCES refresh_tokens (id) ON DELETE SET NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

-- Target systems. settings holds injected failures for the built-in directory connector:
-- {"offline": bool, "error_rate": 0.0..1.0, "latency_ms": int}.
CREATE TABLE connectors (
    id                TEXT PRIMARY KEY NOT NULL,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    connector_type    TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'offline')),
    credentials_valid INTEGER NOT NULL DEFAULT 1 CHECK (credentials_valid IN (0, 1)),
    settings          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

-- The xavyo side: identities whose attributes reconciliation compares with the target's accounts.
CREATE TABLE identities (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    attributes   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (tenant_id, email)
);
CREATE INDEX identities_tenant_name ON identities (tenant_id, display_name);

-- The target side of the built-in directory connector: its accounts, optionally linked to an identity.
CREATE TABLE target_accounts (
    connector_id TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    uid          TEXT NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    object_class TEXT NOT NULL DEFAULT 'user',
    identity_id  TEXT REFERENCES identities (id) ON DELETE SET NULL,
    attributes   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (connector_id, uid)
) WITHOUT ROWID;
CREATE INDEX target_accounts_identity ON target_accounts (connector_id, identity_id);
CREATE INDEX target_accounts_updated ON target_accounts (connector_id, updated_at);

-- The durable queue. user_id names an identity of the platform; it is not a foreign key because xavyo-idp
-- enqueues for users this engine may not mirror.
CREATE TABLE operations (
    id               TEXT PRIMARY KEY NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    connector_id     TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL,
    operation_type   TEXT NOT NULL CHECK (operation_type IN ('create', 'update', 'delete')),
    object_class     TEXT NOT NULL DEFAULT 'user',
    target_uid       TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'failed',
                                                     'dead_letter', 'awaiting_system', 'resolved', 'cancelled')),
    priority         INTEGER NOT NULL DEFAULT 0,
    retry_count      INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    max_retries      INTEGER NOT NULL DEFAULT 3 CHECK (max_retries >= 0),
    error_message    TEXT,
    payload          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    idempotency_key  TEXT NOT NULL,
    next_retry_at    TEXT,
    lease_owner      TEXT,
    lease_expires_at TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    started_at       TEXT,
    completed_at     TEXT,
    resolution_notes TEXT,
    resolved_by      TEXT,
    resolved_at      TEXT,
    UNIQUE (tenant_id, idempotency_key)
);
-- One index per list filter, each ending in created_at so "newest first" pages walk the index.
CREATE INDEX operations_tenant_created ON operations (tenant_id, created_at DESC);
CREATE INDEX operations_tenant_status ON operations (tenant_id, status, created_at DESC);
CREATE INDEX operations_tenant_connector ON operations (tenant_id, connector_id, created_at DESC);
CREATE INDEX operations_tenant_user ON operations (tenant_id, user_id, created_at DESC);
CREATE INDEX operations_tenant_type ON operations (tenant_id, operation_type, created_at DESC);
-- The worker: due work by priority, and leases to reclaim.
CREATE INDEX operations_due ON operations (status, priority DESC, next_retry_at, created_at);
CREATE INDEX operations_leases ON operations (status, lease_expires_at);
-- The start gate: active work on a connector.
CREATE INDEX operations_connector_status ON operations (connector_id, status);

CREATE TABLE operation_attempts (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    operation_id   TEXT NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
    attempt_number INTEGER NOT NULL CHECK (attempt_number >= 1),
    started_at     TEXT NOT NULL,
    completed_at   TEXT,
    success        INTEGER NOT NULL CHECK (success IN (0, 1)),
    error_code     TEXT,
    error_message  TEXT,
    duration_ms    INTEGER,
    UNIQUE (operation_id, attempt_number)
);

CREATE TABLE operation_logs (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    operation_id TEXT NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
    timestamp    TEXT NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message      TEXT NOT NULL
);
CREATE INDEX operation_logs_operation ON operation_logs (operation_id, timestamp);

CREATE TABLE conflicts (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    operation_id_a      TEXT NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
    operation_id_b      TEXT NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
    conflict_type       TEXT NOT NULL,
    affected_attributes TEXT NOT NULL DEFAULT '[]'
                        CHECK (json_valid(affected_attributes) AND json_type(affected_attributes) = 'array'),
    status              TEXT NOT NULL CHECK (status IN ('pending', 'resolved')),
    outcome             TEXT CHECK (outcome IS NULL OR outcome IN ('applied', 'superseded', 'merged', 'rejected')),
    notes               TEXT,
    created_at          TEXT NOT NULL,
    resolved_at         TEXT,
    resolved_by         TEXT
);
CREATE INDEX conflicts_tenant_created ON conflicts (tenant_id, created_at DESC);
CREATE INDEX conflicts_tenant_status ON conflicts (tenant_id, status, created_at DESC);
CREATE INDEX conflicts_tenant_type ON conflicts (tenant_id, conflict_type, created_at DESC);
CREATE INDEX conflicts_operation_a ON conflicts (operation_id_a);
CREATE INDEX conflicts_operation_b ON conflicts (operation_id_b);

-- created_by is null for runs a schedule started. resume_cursor is the last external uid processed, for resume.
CREATE TABLE reconciliation_runs (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    connector_id        TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    mode                TEXT NOT NULL CHECK (mode IN ('full', 'delta')),
    dry_run             INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
    status              TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed',
                                                        'cancelled', 'paused')),
    trigger_kind        TEXT NOT NULL DEFAULT 'manual' CHECK (trigger_kind IN ('manual', 'schedule')),
    started_at          TEXT NOT NULL,
    completed_at        TEXT,
    accounts_total      INTEGER NOT NULL DEFAULT 0,
    accounts_processed  INTEGER NOT NULL DEFAULT 0,
    discrepancies_found INTEGER NOT NULL DEFAULT 0,
    api_calls_made      INTEGER NOT NULL DEFAULT 0,
    duration_seconds    REAL,
    created_by          TEXT,
    error_message       TEXT,
    resume_cursor       TEXT,
    lease_owner         TEXT,
    lease_expires_at    TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX reconciliation_runs_connector ON reconciliation_runs (tenant_id, connector_id, started_at DESC);
CREATE INDEX reconciliation_runs_connector_status
    ON reconciliation_runs (tenant_id, connector_id, status, started_at DESC);
CREATE INDEX reconciliation_runs_active ON reconciliation_runs (status, lease_expires_at);

CREATE TABLE discrepancies (
    id                    TEXT PRIMARY KEY NOT NULL,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    connector_id          TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    run_id                TEXT NOT NULL REFERENCES reconciliation_runs (id) ON DELETE CASCADE,
    discrepancy_type      TEXT NOT NULL CHECK (discrepancy_type IN ('missing', 'orphan', 'mismatch', 'collision',
                                                                    'unlinked', 'deleted')),
    identity_id           TEXT,
    external_uid          TEXT,
    attribute_name        TEXT,
    expected_value        TEXT,
    actual_value          TEXT,
    mismatched_attributes TEXT CHECK (mismatched_attributes IS NULL OR json_valid(mismatched_attributes)),
    suggested_actions     TEXT NOT NULL DEFAULT '[]'
                          CHECK (json_valid(suggested_actions) AND json_type(suggested_actions) = 'array'),
    resolution_status     TEXT NOT NULL DEFAULT 'pending' CHECK (resolution_status IN ('pending', 'resolved',
                                                                                        'ignored')),
    resolved_at           TEXT,
    resolved_by           TEXT,
    created_at            TEXT NOT NULL
);
CREATE INDEX discrepancies_connector ON discrepancies (tenant_id, connector_id, created_at DESC);
CREATE INDEX discrepancies_run ON discrepancies (run_id, discrepancy_type);
CREATE INDEX discrepancies_type ON discrepancies (tenant_id, connector_id, discrepancy_type, created_at DESC);
CREATE INDEX discrepancies_resolution
    ON discrepancies (tenant_id, connector_id, resolution_status, created_at DESC);
CREATE INDEX discrepancies_identity ON discrepancies (tenant_id, connector_id, identity_id);
CREATE INDEX discrepancies_external_uid ON discrepancies (tenant_id, connector_id, external_uid);

-- The reconciliation audit log.
CREATE TABLE reconciliation_actions (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    connector_id   TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    discrepancy_id TEXT REFERENCES discrepancies (id) ON DELETE SET NULL,
    action_type    TEXT NOT NULL,
    direction      TEXT CHECK (direction IS NULL OR direction IN ('xavyo_to_target', 'target_to_xavyo')),
    result         TEXT NOT NULL,
    dry_run        INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
    performed_by   TEXT,
    performed_at   TEXT NOT NULL,
    details        TEXT CHECK (details IS NULL OR json_valid(details))
);
CREATE INDEX reconciliation_actions_connector ON reconciliation_actions (tenant_id, connector_id, performed_at DESC);
CREATE INDEX reconciliation_actions_type
    ON reconciliation_actions (tenant_id, connector_id, action_type, performed_at DESC);
CREATE INDEX reconciliation_actions_discrepancy ON reconciliation_actions (discrepancy_id);

-- At most one schedule per connector.
CREATE TABLE schedules (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    connector_id    TEXT NOT NULL UNIQUE REFERENCES connectors (id) ON DELETE CASCADE,
    mode            TEXT NOT NULL CHECK (mode IN ('full', 'delta')),
    frequency       TEXT NOT NULL CHECK (frequency IN ('hourly', 'daily', 'weekly', 'monthly', 'cron')),
    day_of_week     INTEGER CHECK (day_of_week IS NULL OR day_of_week BETWEEN 0 AND 6),
    day_of_month    INTEGER CHECK (day_of_month IS NULL OR day_of_month BETWEEN 1 AND 31),
    hour_of_day     INTEGER NOT NULL DEFAULT 0 CHECK (hour_of_day BETWEEN 0 AND 23),
    cron_expression TEXT,
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    last_run_at     TEXT,
    next_run_at     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX schedules_tenant ON schedules (tenant_id);
CREATE INDEX schedules_due ON schedules (enabled, next_run_at);

-- Discrepancies found per day, connector and type: the trend chart's history.
CREATE TABLE discrepancy_trend (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    connector_id     TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    day              TEXT NOT NULL,       -- YYYY-MM-DD (UTC)
    discrepancy_type TEXT NOT NULL CHECK (discrepancy_type IN ('missing', 'orphan', 'mismatch', 'collision',
                                                                'unlinked', 'deleted')),
    count            INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
    PRIMARY KEY (connector_id, day, discrepancy_type)
) WITHOUT ROWID;
CREATE INDEX discrepancy_trend_tenant_day ON discrepancy_trend (tenant_id, day);

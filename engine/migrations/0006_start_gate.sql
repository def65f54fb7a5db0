-- Remediations between their claim and the end of their connector calls: while one is here (and younger than
-- the gate's lease), no reconciliation run of its connector may start (the start gate's scope_busy).
CREATE TABLE remediations_in_flight (
    discrepancy_id TEXT PRIMARY KEY NOT NULL,
    connector_id   TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    started_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX remediations_in_flight_connector ON remediations_in_flight (connector_id, started_at);

-- The built-in directory connector's own database: the target system it stands for, apart from the engine's.
-- Same conventions as the engine's schema: RFC 3339 UTC TEXT times with six fractional digits, JSON as TEXT.

-- One row per account of every directory connector; owner_id names the identity an account was created for.
CREATE TABLE accounts (
    connector_id TEXT NOT NULL,
    uid          TEXT NOT NULL,
    object_class TEXT NOT NULL DEFAULT 'user',
    owner_id     TEXT,
    attributes   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (connector_id, uid)
) WITHOUT ROWID;
CREATE INDEX accounts_owner ON accounts (connector_id, owner_id);

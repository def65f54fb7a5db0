-- What a delta reconciliation asks a directory: accounts changed since a point, and accounts deleted since then.
CREATE INDEX accounts_updated ON accounts (connector_id, updated_at, uid);

CREATE TABLE deleted_accounts (
    connector_id TEXT NOT NULL,
    uid          TEXT NOT NULL,
    deleted_at   TEXT NOT NULL,
    PRIMARY KEY (connector_id, uid)
) WITHOUT ROWID;
CREATE INDEX deleted_accounts_at ON deleted_accounts (connector_id, deleted_at);

CREATE TRIGGER accounts_tombstone AFTER DELETE ON accounts
BEGIN
    INSERT INTO deleted_accounts (connector_id, uid, deleted_at)
    VALUES (OLD.connector_id, OLD.uid, strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
    ON CONFLICT (connector_id, uid) DO UPDATE SET deleted_at = excluded.deleted_at;
END;

-- An account created again under a deleted uid is no longer deleted.
CREATE TRIGGER accounts_untombstone AFTER INSERT ON accounts
BEGIN
    DELETE FROM deleted_accounts WHERE connector_id = NEW.connector_id AND uid = NEW.uid;
END;

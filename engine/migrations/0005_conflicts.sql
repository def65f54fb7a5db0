-- Conflict detection by the worker (see specs/conflicts.md).

-- An operation held back because it conflicts with an earlier one: the conflict that holds it. Held operations
-- stay `pending` and no worker claims them until an admin resolves the conflict (which clears this, or cancels
-- the operation).
ALTER TABLE operations ADD COLUMN held_by_conflict TEXT REFERENCES conflicts (id) ON DELETE SET NULL;

-- The account an operation targets, as the worker finds it when it runs the operation: the target uid, else the
-- payload's `uid`, else (for a create) the part of the payload's `email` before `@`. Written by the engine with
-- the operation (`conflicts::target_key`), and kept when the worker learns the target uid. A plain column, not a
-- generated one: a generated one is computed again (JSON parsed) on every status change the index follows.
ALTER TABLE operations ADD COLUMN target_key TEXT;

-- Operations stored before this migration: the same rule in SQL, once.
UPDATE operations SET target_key = COALESCE(
    target_uid,
    NULLIF(trim(CASE WHEN json_type(payload, '$.uid') = 'text' THEN json_extract(payload, '$.uid') END), ''),
    CASE WHEN operation_type = 'create' AND json_type(payload, '$.email') = 'text' THEN
        NULLIF(trim(CASE WHEN instr(json_extract(payload, '$.email'), '@') > 0
                         THEN substr(json_extract(payload, '$.email'), 1,
                                     instr(json_extract(payload, '$.email'), '@') - 1)
                         ELSE json_extract(payload, '$.email') END), '')
    END);

-- The active operations on one account of one connector: what a claim checks a candidate against.
CREATE INDEX operations_active_target ON operations (connector_id, target_key, created_at)
    WHERE status IN ('pending', 'in_progress', 'awaiting_system');

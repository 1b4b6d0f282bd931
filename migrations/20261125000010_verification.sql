-- Verification after a rollback (§6): the §6.1 checklist and the §6.3 monitoring window.

-- The ten §6.1 items of an incident, created when its execution succeeds. Automatic items are
-- checked by the runner (queued → running → passed/failed, with evidence); manual items are
-- ticked by a person (waiting → passed).
CREATE TABLE verification_items (
    incident_id  bigint NOT NULL REFERENCES incidents (id),
    item         text NOT NULL CHECK (item IN (
        'main_url', 'home_page', 'sign_in', 'main_features', 'logs', 'database', 'emails',
        'sessions', 'assets', 'performance')),
    automatic    boolean NOT NULL,
    status       text NOT NULL CHECK (status IN ('waiting', 'queued', 'running', 'passed', 'failed')),
    evidence     text NOT NULL DEFAULT '' CHECK (length(evidence) <= 20000),
    checked_at   timestamptz,
    checked_by   uuid REFERENCES users (id),   -- NULL: the runner
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    -- A runner holds a running item until then; past it, the item is queued again.
    locked_until timestamptz,
    PRIMARY KEY (incident_id, item),
    CHECK (automatic OR status IN ('waiting', 'passed'))
);
CREATE INDEX verification_items_queued ON verification_items (status) WHERE status IN ('queued', 'running');

-- The §6.3 checks: one every 15 minutes for two hours after the checklist is complete.
CREATE TABLE monitoring_checks (
    incident_id  bigint NOT NULL REFERENCES incidents (id),
    slot         integer NOT NULL CHECK (slot BETWEEN 1 AND 8),
    due_at       timestamptz NOT NULL,
    -- The runner's automatic checks at the due time: [{item, passed, evidence}].
    taken_at     timestamptz,
    results      jsonb,
    passed       boolean,
    locked_until timestamptz,
    confirmed_by uuid REFERENCES users (id),
    confirmed_at timestamptz,
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 5000),
    PRIMARY KEY (incident_id, slot)
);
CREATE INDEX monitoring_checks_to_take ON monitoring_checks (due_at) WHERE taken_at IS NULL;

ALTER TABLE incidents
    ADD COLUMN monitoring_started_at timestamptz,
    -- Set when a monitoring check fails, cleared when a later one passes.
    ADD COLUMN monitoring_alert_at   timestamptz,
    -- When service was restored (the successful execution's end): downtime and MTTR.
    ADD COLUMN restored_at           timestamptz,
    ADD COLUMN resolved_at           timestamptz,
    ADD COLUMN resolved_by           uuid REFERENCES users (id),
    ADD COLUMN resolution_note       text NOT NULL DEFAULT ''
        CHECK (length(resolution_note) <= 5000);

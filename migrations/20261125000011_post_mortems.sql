-- Post-mortems (§8): one per incident whose rollback ended, due 48 hours later.
CREATE TABLE post_mortems (
    incident_id  bigint PRIMARY KEY REFERENCES incidents (id),
    -- When the rollback ended; the meeting is due 48 hours later (§8.1).
    created_at   timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    -- Each save must name the revision it started from: a stale save is refused.
    revision     integer NOT NULL DEFAULT 1,
    content      jsonb NOT NULL,
    saved_by     uuid REFERENCES users (id),   -- NULL: created by the system
    saved_at     timestamptz NOT NULL,
    finalized_at timestamptz,
    finalized_by uuid REFERENCES users (id)
);
CREATE INDEX post_mortems_due ON post_mortems (due_at) WHERE finalized_at IS NULL;

-- Every saved version: who, when, what.
CREATE TABLE post_mortem_revisions (
    incident_id bigint NOT NULL REFERENCES post_mortems (incident_id),
    revision    integer NOT NULL,
    content     jsonb NOT NULL,
    saved_by    uuid REFERENCES users (id),
    saved_at    timestamptz NOT NULL,
    PRIMARY KEY (incident_id, revision)
);

-- The corrective actions of the latest revision, for owners' dashboards and the actions page.
CREATE TABLE corrective_actions (
    incident_id bigint NOT NULL REFERENCES post_mortems (incident_id),
    position    integer NOT NULL,
    action      text NOT NULL CHECK (length(btrim(action)) BETWEEN 1 AND 2000),
    owner_id    uuid REFERENCES users (id),
    due_on      date,
    status      text NOT NULL CHECK (status IN ('to_do', 'in_progress', 'done')),
    PRIMARY KEY (incident_id, position)
);
CREATE INDEX corrective_actions_open ON corrective_actions (owner_id, due_on) WHERE status <> 'done';

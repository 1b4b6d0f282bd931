-- Incidents and the rollback decision (§2), with an append-only event log.

ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT 'Europe/Paris';

-- Where an application runs. The Plans issue adds targets, paths and commands.
CREATE TABLE environments (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incidents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title           text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    detected_at     timestamptz NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('critical', 'urgent', 'normal')),
    environment_id  uuid NOT NULL REFERENCES environments (id),
    -- The release believed defective, e.g. 2025-10-17_104523 (v1.2.0).
    suspect_release text NOT NULL DEFAULT '' CHECK (length(suspect_release) <= 200),
    criteria        text[] NOT NULL DEFAULT '{}' CHECK (criteria <@ ARRAY[
        'critical_errors', 'user_data_loss', 'major_performance', 'irreversible_migration',
        'security_flaw', 'production_incompatibility', 'critical_feature_failure']::text[]),
    criteria_other  text NOT NULL DEFAULT '' CHECK (length(criteria_other) <= 2000),
    state           text NOT NULL DEFAULT 'detected' CHECK (state IN (
        'detected', 'evaluating', 'decided', 'awaiting_approval', 'executing', 'verifying',
        'monitoring', 'resolved', 'closed', 'fix_forward', 'cancelled')),
    decision        text CHECK (decision IN ('rollback', 'fix_forward')),
    rollback_type   text CHECK (rollback_type IN ('application', 'application_database', 'system')),
    decision_reason text,
    decided_at      timestamptz,
    decided_by      uuid REFERENCES users (id),
    -- Set once by the overdue watcher when the 30-minute decision deadline passed undecided.
    overdue_at      timestamptz,
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((decision = 'rollback') = (rollback_type IS NOT NULL))
);
CREATE INDEX incidents_open ON incidents (state, detected_at);

-- The five §2.2 validation steps, each recorded once: who, when, a note.
CREATE TABLE incident_steps (
    incident_id bigint NOT NULL REFERENCES incidents (id),
    step        text NOT NULL CHECK (step IN (
        'identification', 'impact_evaluation', 'no_quick_fix', 'decision', 'communication')),
    recorded_by uuid NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 5000),
    PRIMARY KEY (incident_id, step)
);

-- Everything that happens to an incident. Append-only: see the trigger below.
CREATE TABLE incident_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id bigint NOT NULL REFERENCES incidents (id),
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid REFERENCES users (id),   -- NULL: the system (e.g. the overdue watcher)
    kind        text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id, id);

-- Events are history: no role, the application's included, may change or remove one.
CREATE FUNCTION incident_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER incident_events_no_update_delete
    BEFORE UPDATE OR DELETE ON incident_events
    FOR EACH ROW EXECUTE FUNCTION incident_events_are_append_only();
CREATE TRIGGER incident_events_no_truncate
    BEFORE TRUNCATE ON incident_events
    FOR EACH STATEMENT EXECUTE FUNCTION incident_events_are_append_only();

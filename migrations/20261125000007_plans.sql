-- Rollback plans (§4, §5) and their approvals (§5.1: two people).

-- One plan per incident; revising it rewrites its steps and fingerprint, which voids the
-- verdicts given on the previous version (they stay, bound to the old fingerprint).
CREATE TABLE plans (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id      bigint NOT NULL UNIQUE REFERENCES incidents (id),
    environment_id   uuid NOT NULL REFERENCES environments (id),
    rollback_type    text NOT NULL CHECK (rollback_type IN ('application', 'application_database', 'system')),
    -- The release `current` pointed to when the plan was made (the defective one).
    from_release     text,
    -- The release to go back to (not for a system rollback).
    target_release   text,
    backup_file      text,
    backup_sha256    text,
    -- When the backup was taken (the target's local time in its name, stored in UTC).
    backup_taken_at  timestamptz,
    -- Why the plan proposes this backup (§5.2 step 3), as shown to approvers.
    backup_reason    text NOT NULL DEFAULT '',
    -- Every step that will run, in order (typed operations), and a hash over them.
    steps            jsonb NOT NULL,
    fingerprint      text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    revision         integer NOT NULL DEFAULT 1,
    -- Who prepared or last revised it: that person can't approve it.
    requested_by     uuid NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((rollback_type = 'application_database') = (backup_file IS NOT NULL)),
    CHECK ((rollback_type = 'system') = (target_release IS NULL))
);

-- Verdicts, each bound to the fingerprint its reviewer read. Never updated nor deleted.
CREATE TABLE plan_reviews (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id     bigint NOT NULL REFERENCES plans (id),
    reviewer_id uuid NOT NULL REFERENCES users (id),
    verdict     text NOT NULL CHECK (verdict IN ('approved', 'rejected')),
    fingerprint text NOT NULL,
    comment     text NOT NULL DEFAULT '' CHECK (length(comment) <= 5000),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plan_reviews_by_plan ON plan_reviews (plan_id, fingerprint);
CREATE TRIGGER plan_reviews_no_update_delete
    BEFORE UPDATE OR DELETE ON plan_reviews
    FOR EACH ROW EXECUTE FUNCTION incident_events_are_append_only();

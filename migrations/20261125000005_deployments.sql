-- Deployments (§11.2: version, deployed, rolled back, reason) with the §9.2 checklist.
CREATE TABLE deployments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id  uuid NOT NULL REFERENCES environments (id),
    version         text NOT NULL CHECK (length(version) BETWEEN 1 AND 50),
    release         text NOT NULL CHECK (release ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{6}$'),
    deployed_at     timestamptz NOT NULL,
    -- The §9.2 items ticked before deploying.
    checklist       text[] NOT NULL DEFAULT '{}' CHECK (checklist <@ ARRAY[
        'tests_green', 'code_reviewed', 'docs_updated', 'migrations_tested', 'recent_backup',
        'team_available', 'off_peak', 'users_notified', 'rollback_plan_ready']::text[]),
    source          text NOT NULL CHECK (source IN ('ui', 'cli', 'api', 'demo')),
    recorded_by     uuid REFERENCES users (id),
    rolled_back_at  timestamptz,
    rollback_reason text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (environment_id, release)
);

-- What runs on an environment (its target and commands) changed by one person waits for a
-- second person's confirmation before any plan on it executes (issue 15 §9).
ALTER TABLE environments
    ADD COLUMN run_config_changed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Set while a change waits for confirmation.
    ADD COLUMN run_config_pending_since timestamptz,
    -- What changed: {"target": bool, "commands": [names], "outside": [programs]}.
    ADD COLUMN run_config_change jsonb;

CREATE TABLE environment_events (
    id             bigserial PRIMARY KEY,
    environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    actor_id       uuid REFERENCES users (id) ON DELETE SET NULL,
    kind           text NOT NULL CHECK (kind IN ('run_config_changed', 'run_config_confirmed')),
    details        jsonb NOT NULL DEFAULT '{}',
    at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX environment_events_environment ON environment_events (environment_id, at DESC);

-- Alert intake (Alertmanager / Grafana webhooks): a token per environment, stored hashed, the
-- mapping of a `severity` label to §10.2's severities and of labels to §2.1's criteria, and
-- every alert received with the incident it opened or joined.

ALTER TABLE environments
    -- sha256 (hex) of the bearer token; the token itself is shown once and never stored.
    ADD COLUMN alert_token_hash text UNIQUE,
    ADD COLUMN alert_token_set_at timestamptz,
    -- {"critical": "critical", "warning": "urgent", …}: the `severity` label's value → severity.
    ADD COLUMN alert_severity_map jsonb NOT NULL
        DEFAULT '{"critical": "critical", "page": "critical", "error": "urgent", "warning": "urgent", "info": "normal"}',
    -- [["alertname", "HighErrorRate", "critical_errors"], …]: a label's value → a §2.1 criterion.
    ADD COLUMN alert_criteria_map jsonb NOT NULL DEFAULT '[]';

-- An incident opened by an alert has no person as its author.
ALTER TABLE incidents
    ALTER COLUMN created_by DROP NOT NULL,
    ADD COLUMN source text NOT NULL DEFAULT 'person' CHECK (source IN ('person', 'alert')),
    ADD CONSTRAINT incidents_author CHECK (source = 'alert' OR created_by IS NOT NULL);

CREATE TABLE alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id  uuid NOT NULL REFERENCES environments (id),
    incident_id     bigint NOT NULL REFERENCES incidents (id),
    fingerprint     text NOT NULL CHECK (length(fingerprint) BETWEEN 1 AND 200),
    group_key       text NOT NULL CHECK (length(group_key) <= 2000),
    name            text NOT NULL DEFAULT '',
    labels          jsonb NOT NULL DEFAULT '{}',
    annotations     jsonb NOT NULL DEFAULT '{}',
    starts_at       timestamptz NOT NULL,
    -- The links the sender gave (only http/https are kept).
    generator_url   text,
    dashboard_url   text,
    panel_url       text,
    -- The deployment live when the alert started (§11.2), if one was recorded.
    deployment_id   bigint REFERENCES deployments (id),
    received_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    -- An alert firing again after it resolved is a new row (a new startsAt).
    UNIQUE (environment_id, fingerprint, starts_at)
);
CREATE INDEX alerts_of_incident ON alerts (incident_id, starts_at);
CREATE INDEX alerts_of_group ON alerts (environment_id, group_key);
CREATE INDEX alerts_firing ON alerts (environment_id, fingerprint) WHERE resolved_at IS NULL;

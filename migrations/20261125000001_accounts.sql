-- Accounts: people who use Rollback Desk, with one or more roles (DESIGN.md "Roles and permissions").
CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name          text NOT NULL CHECK (length(btrim(name)) > 0),
    -- argon2id PHC string; the password itself is never stored.
    password_hash text NOT NULL,
    roles         text[] NOT NULL CHECK (
        cardinality(roles) > 0
        AND roles <@ ARRAY['tech_lead', 'project_manager', 'sysadmin', 'senior_dev_oncall',
                           'developer', 'qa', 'dba', 'viewer', 'admin']::text[]
    ),
    language      text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en')),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz
);

-- Failed sign-ins per account name (also for unknown addresses, so that throttling does not
-- reveal which accounts exist). Cleared on a successful sign-in.
CREATE TABLE sign_in_failures (
    email           text PRIMARY KEY,
    failures        integer NOT NULL CHECK (failures > 0),
    last_failure_at timestamptz NOT NULL,
    locked_until    timestamptz
);

-- Contacts and on-call (§10): the team, who is on call when, and the hosting support.
CREATE TABLE contacts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    role       text NOT NULL CHECK (role IN ('tech_lead', 'project_manager', 'sysadmin',
        'senior_dev_oncall', 'developer', 'qa', 'dba')),
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    phone      text NOT NULL CHECK (length(btrim(phone)) BETWEEN 1 AND 40),
    email      text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A shift covers [starts_at, ends_at): at a handover the next person is on call.
CREATE TABLE on_call_shifts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX on_call_shifts_by_time ON on_call_shifts (starts_at, ends_at);

-- §10.3: one row.
CREATE TABLE hosting_support (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    provider text NOT NULL DEFAULT '' CHECK (length(provider) <= 200),
    phone    text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    email    text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    portal   text NOT NULL DEFAULT '' CHECK (length(portal) <= 500)
);

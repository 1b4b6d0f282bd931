-- Failed sign-ins are counted per account name *and* source: a client address, or a device
-- that signed in to that account before. An attacker slows only their own source; the
-- account as a whole is closed to new sources (never to known devices) only under failures
-- from many of them. The old per-name rows are dropped: they are a few minutes of throttling.
DELETE FROM sign_in_failures;
ALTER TABLE sign_in_failures DROP CONSTRAINT sign_in_failures_pkey;
ALTER TABLE sign_in_failures ADD COLUMN source text NOT NULL;
ALTER TABLE sign_in_failures ADD PRIMARY KEY (email, source);
-- The purge of old rows.
CREATE INDEX sign_in_failures_last_failure ON sign_in_failures (last_failure_at);

-- Browsers that signed in successfully: the cookie holds a random token, only its SHA-256 is
-- stored (a copy of the table signs nobody in).
CREATE TABLE known_devices (
    token_sha256 text PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX known_devices_user ON known_devices (user_id);
CREATE INDEX known_devices_last_used ON known_devices (last_used_at);

-- What an administrator did to an account besides editing it.
CREATE TABLE account_events (
    id       bigserial PRIMARY KEY,
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
    kind     text NOT NULL CHECK (kind IN ('unlocked')),
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_events_user ON account_events (user_id, at DESC);

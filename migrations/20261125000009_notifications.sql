-- Emails (§7): what was sent, and one outbox row per recipient that the mailer delivers.

CREATE TABLE email_sends (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id bigint REFERENCES incidents (id),
    -- The template it came from: internal (§7.1), users (§7.2), or an automatic email.
    template    text NOT NULL,
    lang        text NOT NULL CHECK (lang IN ('fr', 'en')),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
    body_text   text NOT NULL CHECK (length(body_text) <= 100000),
    body_html   text NOT NULL,
    -- NULL: sent by the system.
    sent_by     uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    send_id         bigint NOT NULL REFERENCES email_sends (id),
    recipient       text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'bounced')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A mailer holds the row while it delivers it; past this, another may take it.
    locked_until    timestamptz,
    last_error      text,
    -- Fixed when queued: a message sent again after a crash carries the same Message-ID.
    message_id      text NOT NULL,
    sent_at         timestamptz,
    UNIQUE (send_id, recipient)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending';

-- An uploaded recipient list (CSV), checked once; a send then uses it by id.
CREATE TABLE recipient_lists (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id bigint NOT NULL REFERENCES incidents (id),
    file_name   text NOT NULL DEFAULT '',
    addresses   text[] NOT NULL,
    -- The lines that are not addresses: [[line number, text], …] (the first 1,000).
    bad_lines   jsonb NOT NULL DEFAULT '[]',
    bad_count   integer NOT NULL DEFAULT 0,
    duplicates  integer NOT NULL DEFAULT 0,
    truncated   boolean NOT NULL DEFAULT false,
    uploaded_by uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

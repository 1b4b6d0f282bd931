-- One-time form tokens: a form whose repeat would do the work twice (the §7 send, opening an
-- incident) carries a random token; the action consumes it in its own transaction and
-- records where it led, so that a double click or a resubmitted page shows what the first
-- post did instead of doing it again. Purged after a day.
CREATE TABLE form_submissions (
    token          text PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    action         text NOT NULL,
    submitted_at   timestamptz NOT NULL DEFAULT now(),
    outcome_path   text,
    outcome_notice jsonb
);
CREATE INDEX form_submissions_submitted ON form_submissions (submitted_at);

-- The runner and the mailer under faults (issue "Runner and mailer under faults").

-- The process group a step's command runs in, and the machine ("hostname boot-id"): a retry
-- is refused while a process of that group lives.
ALTER TABLE execution_steps
    ADD COLUMN process_group integer,
    ADD COLUMN process_host text;

-- A restore that did not finish leaves the environment's database partially restored until a
-- restore completes: {execution, incident, step, attempt, backup, since}.
ALTER TABLE environments ADD COLUMN partial_restore jsonb;

-- Emails: a row is marked `sending` (with its mailer and a short lease) before it goes to
-- SMTP; temporary failures are retried until `created_at` + the retry window.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'bounced'));
ALTER TABLE outbox
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN locked_by uuid;
CREATE INDEX outbox_claimable ON outbox (locked_until) WHERE status = 'sending';
CREATE INDEX outbox_undelivered ON outbox (send_id) WHERE status IN ('failed', 'bounced');

-- Executions of ready plans by the runner (§4, §5), step by step.

CREATE TABLE executions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id      bigint NOT NULL REFERENCES incidents (id),
    plan_id          bigint NOT NULL REFERENCES plans (id),
    environment_id   uuid NOT NULL REFERENCES environments (id),
    -- The plan version executed, and its steps as they were approved.
    fingerprint      text NOT NULL,
    steps            jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN (
        'queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'interrupted',
        'aborted')),
    -- The position (from 0) of the step to run next.
    next_step        integer NOT NULL DEFAULT 0,
    cancel_requested boolean NOT NULL DEFAULT false,
    -- Someone insisted: the running step's process is killed (the step fails, recorded so).
    kill_requested   boolean NOT NULL DEFAULT false,
    -- The runner that holds the execution, until when; renewed while it works.
    lease_owner      uuid,
    lease_until      timestamptz,
    requested_by     uuid NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
-- One execution at a time per environment: a failed or interrupted one still holds it until a
-- person resumes or aborts it, since the target is then in a state nobody planned.
CREATE UNIQUE INDEX executions_one_active_per_environment ON executions (environment_id)
    WHERE status IN ('queued', 'running', 'waiting', 'failed', 'interrupted');
CREATE INDEX executions_queue ON executions (status, id);

-- Each attempt at a step: when, how it ended, the tail of its output.
CREATE TABLE execution_steps (
    execution_id bigint NOT NULL REFERENCES executions (id),
    position     integer NOT NULL,
    attempt      integer NOT NULL,
    status       text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    exit_code    integer,
    -- The last 64 KiB of stdout and stderr (never a password: none is ever in argv or output).
    output       text NOT NULL DEFAULT '',
    -- For a manual step, or a person's decision: who and why.
    done_by      uuid REFERENCES users (id),
    note         text NOT NULL DEFAULT '',
    PRIMARY KEY (execution_id, position, attempt)
);

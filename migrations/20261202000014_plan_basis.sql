-- Plans bound to what they rely on (issue "Rollback core"): the facts the plan was made from
-- (the environment's target, database and settings; the inventory's `current`, release and
-- backup; the last deployment), hashed into the fingerprint, compared at every count.
ALTER TABLE plans
    ADD COLUMN basis jsonb,
    -- The release the incident is about, and where that came from (suspect, deployment live at
    -- detection, current link).
    ADD COLUMN defective_release text,
    ADD COLUMN defective_source text CHECK (defective_source IN ('suspect', 'deployment', 'current'));

-- The requester may withdraw a plan; like a rejection, it blocks that version.
ALTER TABLE plan_reviews DROP CONSTRAINT plan_reviews_verdict_check;
ALTER TABLE plan_reviews ADD CONSTRAINT plan_reviews_verdict_check
    CHECK (verdict IN ('approved', 'rejected', 'withdrawn'));

-- The runner executes from the environment's settings as they were when the execution was
-- queued, never from live ones.
ALTER TABLE executions
    ADD COLUMN config jsonb,
    -- The absolute path (on the target) of the maintenance page the execution wrote (§5.2
    -- step 1), removed exactly there at step 10.
    ADD COLUMN maintenance_file text;

-- Skipping is recorded: a step passed over by a person's "resume from" is a row of its own,
-- and an execution that skipped any ends as succeeded_with_skips.
ALTER TABLE executions DROP CONSTRAINT executions_status_check;
ALTER TABLE executions ADD CONSTRAINT executions_status_check CHECK (status IN (
    'queued', 'running', 'waiting', 'succeeded', 'succeeded_with_skips', 'failed', 'cancelled',
    'interrupted', 'aborted'));
ALTER TABLE execution_steps DROP CONSTRAINT execution_steps_status_check;
ALTER TABLE execution_steps ADD CONSTRAINT execution_steps_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'skipped'));

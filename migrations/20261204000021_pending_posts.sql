-- A form posted after its session expired: what was typed waits here (never in a cookie:
-- a post-mortem's text is larger than one) until its author signs in again, then goes back
-- into the form. Only same-site posts are kept, for an hour, at most one per visitor.
CREATE TABLE pending_posts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The page the form was on (a local path) and the form's key on it.
    back       text NOT NULL CHECK (back LIKE '/%' AND length(back) <= 2000),
    form       text NOT NULL CHECK (length(form) <= 200),
    fields     jsonb NOT NULL
);
CREATE INDEX pending_posts_created ON pending_posts (created_at);

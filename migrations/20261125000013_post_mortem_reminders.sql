-- The "post-mortem due soon" reminder goes once per post-mortem.
ALTER TABLE post_mortems ADD COLUMN reminded_at timestamptz;

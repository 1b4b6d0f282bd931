-- Indexes for the orders and filters of the paged lists (issue 17): each page reads its rows
-- through an index instead of sorting the table.
CREATE INDEX incidents_by_detection ON incidents (detected_at DESC, id DESC);
CREATE INDEX incidents_rollbacks ON incidents (detected_at DESC, id DESC) WHERE decision = 'rollback';
CREATE INDEX executions_latest ON executions (incident_id, id DESC);
CREATE INDEX deployments_latest ON deployments (environment_id, deployed_at DESC);
CREATE INDEX post_mortems_listed ON post_mortems ((finalized_at IS NOT NULL), due_at, incident_id);
CREATE INDEX corrective_actions_listed ON corrective_actions (due_on NULLS LAST, incident_id, position)
    WHERE status <> 'done';

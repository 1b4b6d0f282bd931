-- The dashboard's open incidents and the list's "open only": a walk of the unresolved
-- incidents alone, in the list's order, whatever the number of closed ones.
CREATE INDEX incidents_unresolved ON incidents (detected_at DESC, id DESC)
    WHERE state NOT IN ('resolved', 'closed', 'fix_forward', 'cancelled');

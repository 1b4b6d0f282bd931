-- The target's time zone: release and backup names carry its local time (2025-10-17_104523,
-- db_backup_20251017_103000), which must be compared with deployment times (UTC).
ALTER TABLE environments ADD COLUMN time_zone text NOT NULL DEFAULT 'Europe/Paris';

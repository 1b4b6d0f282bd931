-- What the last inventory of an environment's target found (§4.2 steps 2–3, §5.2 step 2).
-- Each inventory replaces the previous one in one transaction.
CREATE TABLE inventories (
    environment_id  uuid PRIMARY KEY REFERENCES environments (id),
    taken_at        timestamptz NOT NULL,
    -- The release `current` points to, when it is one of the releases.
    current_release text,
    -- Where `current` points to, as read (readlink), or NULL when it is missing.
    current_target  text,
    current_dangling boolean NOT NULL DEFAULT false,
    -- Names found that match no expected pattern: listed, never used.
    ignored         text[] NOT NULL DEFAULT '{}',
    error           text
);

CREATE TABLE releases (
    environment_id uuid NOT NULL REFERENCES environments (id),
    name           text NOT NULL,
    -- Parsed from the folder name YYYY-MM-DD_HHMMSS (the target's local time).
    stamp          timestamp NOT NULL,
    PRIMARY KEY (environment_id, name)
);

CREATE TABLE backups (
    environment_id uuid NOT NULL REFERENCES environments (id),
    file_name      text NOT NULL,
    -- Parsed from db_backup_YYYYMMDD_HHMMSS.sql.gz (the target's local time).
    taken_at       timestamp NOT NULL,
    size_bytes     bigint NOT NULL,
    sha256         text NOT NULL,
    PRIMARY KEY (environment_id, file_name)
);

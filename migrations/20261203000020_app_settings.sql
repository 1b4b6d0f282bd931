-- Settings the running app records for the parts that work outside a request: the address
-- users reach it at (`public_base`), for the links of automatic emails.
CREATE TABLE app_settings (
    name  text PRIMARY KEY,
    value text NOT NULL
);

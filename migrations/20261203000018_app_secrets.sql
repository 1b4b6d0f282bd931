-- Secrets the app makes for itself on first start, shared by every instance: the key that
-- signs an anonymous visitor's cookie (their sign-in form token, language and message live
-- there, not in a stored session).
CREATE TABLE app_secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL CHECK (length(value) >= 32)
);

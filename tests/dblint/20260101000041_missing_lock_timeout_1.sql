-- expect: missing-lock-timeout 3
-- migrate:up
TRUNCATE audit_log;

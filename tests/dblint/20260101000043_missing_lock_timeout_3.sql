-- expect: missing-lock-timeout 3
-- migrate:up
DROP SCHEMA legacy CASCADE;

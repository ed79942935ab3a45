-- expect: missing-lock-timeout 5
-- migrate:up
SET lock_timeout = '5s';
SET lock_timeout = 0;
ALTER TABLE users ADD COLUMN note text;

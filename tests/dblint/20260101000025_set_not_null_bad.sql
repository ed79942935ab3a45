-- expect: set-not-null 4
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

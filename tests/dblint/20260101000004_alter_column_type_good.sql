-- expect: none
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x';

-- expect: rename-column 5
-- expect: rename-column 6
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users RENAME COLUMN name TO full_name;
ALTER TABLE public.users RENAME nick TO handle;

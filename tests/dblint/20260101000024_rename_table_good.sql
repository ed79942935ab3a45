-- expect: none
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users RENAME CONSTRAINT a TO b;

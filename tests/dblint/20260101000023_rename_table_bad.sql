-- expect: rename-table 4
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users RENAME TO people;

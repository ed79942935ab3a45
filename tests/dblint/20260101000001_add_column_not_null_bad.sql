-- expect: add-column-not-null 4
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN active boolean NOT NULL;

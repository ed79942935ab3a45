-- expect: none
-- migrate:up
CREATE TABLE t (id int);
ALTER TABLE t ADD COLUMN note text;
SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN note text;

-- expect: none
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN note text;
CREATE TABLE t (id int);
ALTER TABLE t ADD COLUMN x int NOT NULL;

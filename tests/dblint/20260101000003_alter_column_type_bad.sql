-- expect: alter-column-type 5
-- expect: alter-column-type 6
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users ALTER COLUMN id TYPE bigint;
ALTER TABLE users ALTER name SET DATA TYPE varchar(200);

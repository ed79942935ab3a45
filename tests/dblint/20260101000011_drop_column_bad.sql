-- expect: drop-column 5
-- expect: drop-column 6
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users DROP COLUMN legacy;
ALTER TABLE users DROP nick, DROP CONSTRAINT c1;

-- expect: none
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users DROP CONSTRAINT users_nick_check;
ALTER TABLE users ALTER COLUMN nick DROP DEFAULT;

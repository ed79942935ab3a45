-- expect: concurrently-in-transaction 5
-- expect: concurrently-in-transaction 6
-- migrate:up
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY users_email ON users (email);
DROP INDEX CONCURRENTLY old_idx;

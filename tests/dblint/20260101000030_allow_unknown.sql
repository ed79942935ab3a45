-- expect: allow-unknown-rule 5
-- expect: drop-column 5
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users DROP COLUMN legacy; -- otap:allow drop-colum a typo does not count

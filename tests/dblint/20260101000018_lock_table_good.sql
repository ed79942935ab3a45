-- expect: none
-- migrate:up
SET lock_timeout = '5s';
SELECT 'LOCK TABLE users';

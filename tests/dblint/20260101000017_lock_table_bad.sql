-- expect: lock-table 4
-- migrate:up
SET lock_timeout = '5s';
LOCK TABLE users IN ACCESS EXCLUSIVE MODE;

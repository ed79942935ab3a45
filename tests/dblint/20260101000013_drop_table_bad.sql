-- expect: drop-table 4
-- migrate:up
SET lock_timeout = '5s';
DROP TABLE users;

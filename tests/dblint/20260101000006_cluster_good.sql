-- expect: none
-- migrate:up
SET lock_timeout = '5s';
-- CLUSTER users; is only in this comment
ANALYZE users;

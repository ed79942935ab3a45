-- expect: none
-- migrate:up transaction:false
SET lock_timeout = '5s';
VACUUM (FULL FALSE, ANALYZE) users;
VACUUM (FULL OFF) orders;

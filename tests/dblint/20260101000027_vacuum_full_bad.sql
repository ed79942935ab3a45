-- expect: vacuum-full 5
-- expect: vacuum-full 6
-- migrate:up transaction:false
SET lock_timeout = '5s';
VACUUM FULL users;
VACUUM (FULL, VERBOSE) orders;

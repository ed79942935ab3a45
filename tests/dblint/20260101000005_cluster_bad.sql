-- expect: cluster 4
-- migrate:up
SET lock_timeout = '5s';
CLUSTER users USING users_pkey;

-- expect: none
-- migrate:up transaction:false
DROP INDEX CONCURRENTLY IF EXISTS orders_user_idx;

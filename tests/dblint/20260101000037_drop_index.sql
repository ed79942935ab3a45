-- expect: index-not-concurrent 4
-- expect: missing-lock-timeout 4
-- migrate:up
DROP INDEX orders_user_idx;

-- expect: concurrently-in-transaction 5
-- migrate:up transaction:false
SET lock_timeout = '5s';
BEGIN;
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
COMMIT;
CREATE INDEX CONCURRENTLY orders_day_idx ON orders (day);

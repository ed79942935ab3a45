-- migrate:up transaction:false
-- CONCURRENTLY keeps writes flowing while the index builds; it cannot run
-- inside a transaction, hence transaction:false above
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id ON orders (user_id);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS orders_user_id;

-- expect: add-column-rewrite 5
-- expect: add-column-rewrite 6
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (price * 100) STORED NOT NULL;

-- expect: add-column-rewrite 4
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (price * 100) STORED NOT NULL;

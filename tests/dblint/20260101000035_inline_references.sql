-- expect: constraint-not-valid 4
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);

-- expect: missing-lock-timeout 3
-- migrate:up
CREATE TABLE refunds (id bigint, order_id bigint REFERENCES orders (id));

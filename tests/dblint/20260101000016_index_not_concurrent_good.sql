-- expect: none
-- migrate:up
SET lock_timeout = '5s';
CREATE TABLE orders (id int, user_id int);
CREATE INDEX orders_user ON orders (user_id);

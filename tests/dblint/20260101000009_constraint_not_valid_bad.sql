-- expect: constraint-not-valid 5
-- expect: constraint-not-valid 6
-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE orders ADD CHECK (total >= 0);

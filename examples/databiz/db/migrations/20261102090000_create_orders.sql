-- migrate:up
SET lock_timeout = '5s';
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL,
    total_cents bigint NOT NULL,
    note text -- free text; may hold ';' and it does not end the statement
);
-- a new table: the foreign key is checked at once, nothing to scan yet
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);

-- migrate:down
DROP TABLE orders;

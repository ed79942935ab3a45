-- expect-ack: drop-column 6
-- expect: drop-column 7
-- migrate:up
SET lock_timeout = '5s';
-- otap:allow drop-column,rename-column legacy is dead (ticket 12)
ALTER TABLE users DROP COLUMN legacy;
ALTER TABLE users DROP COLUMN other;
-- migrate:down
ALTER TABLE users DROP COLUMN whatever;

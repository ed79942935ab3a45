-- expect-ack: drop-column 8
-- expect-ack: rename-table 10
-- expect: allow-without-reason 11
-- expect: drop-table 12
-- migrate:up
SET lock_timeout = '5s';
-- otap:allow drop-column nothing has read legacy since 1.4
ALTER TABLE users DROP COLUMN legacy;
/* otap:allow rename-table the old name is kept as a view below */
ALTER TABLE users RENAME TO people;
-- otap:allow drop-table
DROP TABLE sessions;

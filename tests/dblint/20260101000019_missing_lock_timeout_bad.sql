-- expect: missing-lock-timeout 3
-- migrate:up
ALTER TABLE users ADD COLUMN note text;
ALTER TABLE users ADD COLUMN note2 text;

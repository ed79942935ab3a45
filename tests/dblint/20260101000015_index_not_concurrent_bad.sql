-- expect: index-not-concurrent 5
-- expect: index-not-concurrent 6
-- migrate:up
SET lock_timeout = '5s';
CREATE INDEX users_email ON users (email);
CREATE UNIQUE INDEX IF NOT EXISTS u2 ON ONLY public.users (name);

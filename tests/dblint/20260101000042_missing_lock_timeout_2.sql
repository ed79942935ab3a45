-- expect: missing-lock-timeout 3
-- migrate:up
REINDEX TABLE orders;

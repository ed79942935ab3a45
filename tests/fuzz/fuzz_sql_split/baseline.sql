-- migrate:up
CREATE TABLE a (id int);
ALTER TABLE a ADD COLUMN b int, DROP COLUMN b;
CREATE INDEX i ON a (id);
DROP TABLE a;

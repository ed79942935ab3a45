-- migrate:up
CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;
SELECT E'a\'', "q""x", /* a /* b */ */ 1;
-- migrate:down transaction:false
DROP INDEX CONCURRENTLY i;

/*
 * Unit tests for src/lib/db/baseline.c: what migrations leave behind,
 * read from their statements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/strbuf.h"
#include "db/baseline.h"

static void parse(struct migration *mg, const char *file, const char *text)
{
    struct diag_list dl;
    diag_list_init(&dl, "db/migrations");
    char *copy = strdup(text);
    assert_int_equal(migration_parse_take(mg, file, file, copy, strlen(copy), &dl), 0);
    diag_list_release(&dl);
}

/* "kind name[.column]" of every object, joined by "; " */
static char *describe(const struct baseline_objects *o)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < o->n; i++) {
        const struct baseline_object *b = &o->items[i];
        if (b->kind == DB_OBJ_COLUMN)
            strbuf_addf(&sb, "%scolumn %s.%s", i ? "; " : "", b->name, b->column);
        else
            strbuf_addf(&sb, "%s%s %s", i ? "; " : "", db_object_kind_name(b->kind), b->name);
    }
    size_t len;
    return sb.buf ? strbuf_detach(&sb, &len) : strdup("");
}

static void test_objects_left_behind(void **state)
{
    (void)state;
    struct migration a, b;
    parse(&a, "001_a.sql",
          "-- migrate:up\n"
          "CREATE TABLE IF NOT EXISTS public.users (id int, \"Name\" text);\n"
          "CREATE UNIQUE INDEX CONCURRENTLY users_id ON users (id);\n"
          "CREATE INDEX ON users (id);\n"
          "CREATE OR REPLACE VIEW v AS SELECT 1;\n"
          "CREATE TEMP TABLE scratch (x int);\n"
          "ALTER TABLE users ADD COLUMN email text, ADD CONSTRAINT c CHECK (id > 0), "
          "ADD age int;\n"
          "INSERT INTO users VALUES (1, 'x');\n");
    parse(&b, "002_b.sql",
          "-- migrate:up\n"
          "ALTER TABLE users DROP COLUMN age;\n"
          "ALTER TABLE users RENAME COLUMN email TO mail;\n"
          "DROP TABLE IF EXISTS scratch, nothing;\n"
          "ALTER TABLE users RENAME TO members;\n"
          "DROP VIEW v;\n"
          "CREATE SEQUENCE s;\n"
          "CREATE TYPE t AS ENUM ('a');\n");
    const struct migration *both[] = {&a, &b};
    struct baseline_objects o;
    baseline_objects_of(both, 2, &o);
    char *got = describe(&o);
    assert_string_equal(got, "table members; index users_id; column members.mail; sequence s; "
                             "type t");
    free(got);
    assert_string_equal(o.items[1].on, "members");
    assert_int_equal(o.items[0].line, 2);
    baseline_objects_release(&o);

    /* the first file alone: nothing dropped yet */
    baseline_objects_of(both, 1, &o);
    got = describe(&o);
    assert_string_equal(got, "table public.users; index users_id; view v; table scratch; "
                             "column users.email; column users.age");
    free(got);
    baseline_objects_release(&o);
    migration_release(&a);
    migration_release(&b);
}

/* A dropped table takes its indexes and columns along. */
static void test_drop_takes_dependents(void **state)
{
    (void)state;
    struct migration a;
    parse(&a, "001_a.sql",
          "-- migrate:up\n"
          "CREATE TABLE t (id int);\n"
          "CREATE INDEX t_id ON ONLY t (id);\n"
          "ALTER TABLE t ADD COLUMN c int;\n"
          "DROP TABLE t;\n");
    const struct migration *one[] = {&a};
    struct baseline_objects o;
    baseline_objects_of(one, 1, &o);
    assert_int_equal(o.n, 0);
    baseline_objects_release(&o);
    migration_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_left_behind),
        cmocka_unit_test(test_drop_takes_dependents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the SQL statement splitter and migration files: where
 * statements start and end, on which line, and every malformed input.
 * Table-driven: each case is a script and its statements joined by '|',
 * each prefixed with its line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db/hardlock.h"
#include "db/migration.h"
#include "db/sql_split.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

static char *describe(const char *text, const struct sql_script *s)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < s->nstmts; i++)
        strbuf_addf(&sb, "%s%d:%.*s", i ? "|" : "", s->stmts[i].line, (int)s->stmts[i].len,
                    text + s->stmts[i].off);
    return strbuf_detach(&sb, NULL);
}

static void test_sql_split_statements(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"", ""},
        {";;  ;\n", ""},
        {"SELECT 1", "1:SELECT 1"},
        {"SELECT 1;SELECT 2;", "1:SELECT 1|1:SELECT 2"},
        {"SELECT 1;\n\nSELECT\n 2 ;\n", "1:SELECT 1|3:SELECT\n 2"},
        /* a ';' inside a string, a doubled quote, an E'' string with an escaped quote */
        {"INSERT INTO t VALUES ('a;b', 'it''s;');x;",
         "1:INSERT INTO t VALUES ('a;b', 'it''s;')|1:x"},
        {"SELECT E'a\\';b';y", "1:SELECT E'a\\';b'|1:y"},
        /* standard strings: a backslash is just a character */
        {"SELECT 'a\\';b", "1:SELECT 'a\\'|1:b"},
        /* quoted identifiers */
        {"CREATE TABLE \"we;ird\"\"x\" (a int);z", "1:CREATE TABLE \"we;ird\"\"x\" (a int)|1:z"},
        {"SELECT `a;b`;c", "1:SELECT `a;b`|1:c"},
        /* comments, nested block comments */
        {"-- a; b\nSELECT 1; -- c;\nSELECT 2", "2:SELECT 1|3:SELECT 2"},
        {"/* a; /* b; */ c; */ SELECT 1;", "1:SELECT 1"},
        {"SELECT 1 /* x; */ + 2;", "1:SELECT 1 /* x; */ + 2"},
        /* dollar quotes, tagged and not, with ';' and other tags inside */
        {"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT 2;",
         "1:CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql|2:SELECT 2"},
        {"DO $body$ BEGIN PERFORM 1; $x$ ; $x$; END $body$;q",
         "1:DO $body$ BEGIN PERFORM 1; $x$ ; $x$; END $body$|1:q"},
        /* $1 is a parameter and a$b a word, not dollar quotes */
        {"SELECT $1; SELECT a$b;", "1:SELECT $1|1:SELECT a$b"},
        /* SQLite trigger bodies and BEGIN ATOMIC keep their ';' */
        {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM u; END;\nx;",
         "1:CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM u; END|2:x"},
        {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; END; y;",
         "1:CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; END|1:y"},
        {"CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; SELECT 2; END;z",
         "1:CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; SELECT 2; END|1:z"},
        /* a column called begin does not open a block */
        {"CREATE TABLE t (begin int, x int);SELECT 1;",
         "1:CREATE TABLE t (begin int, x int)|1:SELECT 1"},
        /* BEGIN as a statement is a transaction, not a block */
        {"BEGIN;SELECT 1;COMMIT;", "1:BEGIN|1:SELECT 1|1:COMMIT"},
        {"SELECT 1\r\n;\r\nSELECT 2", "1:SELECT 1|3:SELECT 2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sql_script s;
        struct otap_err err = OTAP_ERR_INIT;
        int rc = sql_split(cases[i].text, strlen(cases[i].text), &s, &err);
        if (rc != 0)
            fail_msg("case %zu: %s", i, err.msg);
        char *have = describe(cases[i].text, &s);
        if (strcmp(have, cases[i].want))
            fail_msg("case %zu: want [%s], have [%s]", i, cases[i].want, have);
        free(have);
        sql_script_release(&s);
    }
}

static void test_sql_split_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"SELECT 'abc", "1:8: unterminated string"},
        {"SELECT 1;\nSELECT \"abc", "2:8: unterminated quoted identifier"},
        {"SELECT 1; /* a /* b */", "1:11: unterminated block comment"},
        {"SELECT $$ abc $", "1:8: unterminated dollar-quoted string"},
        {"\n\n  $t$ $x$", "3:3: unterminated dollar-quoted string"},
        {"SELECT E'\\'", "1:8: unterminated string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sql_script s = SQL_SCRIPT_INIT;
        struct otap_err err = OTAP_ERR_INIT;
        assert_int_equal(sql_split(cases[i].text, strlen(cases[i].text), &s, &err), OTAP_EINVALID);
        assert_string_equal(err.msg, cases[i].want);
        assert_int_equal(s.nstmts, 0);
        otap_err_release(&err);
    }
}

static void test_sql_split_tokens(void **state)
{
    (void)state;
    const char *text = "ALTER TABLE \"T\"\n  ADD x int;";
    struct sql_script s;
    assert_int_equal(sql_split(text, strlen(text), &s, NULL), 0);
    assert_int_equal(s.nstmts, 1);
    assert_int_equal(s.stmts[0].ntok, 6);
    assert_int_equal(s.toks[2].kind, SQL_QIDENT);
    assert_true(sql_tok_is(text, &s.toks[3], "add"));
    assert_int_equal(s.toks[3].line, 2);
    assert_int_equal(s.toks[3].col, 3);
    assert_int_equal(s.stmts[0].end_line, 2);
    sql_script_release(&s);
}

/* ---- migration files -------------------------------------------------- */

struct parsed {
    struct migration mg;
    struct diag_list dl;
    int rc;
};

static void parse(struct parsed *p, const char *file, const char *text)
{
    diag_list_init(&p->dl, "db/migrations");
    p->rc = migration_parse_take(&p->mg, file, file, xstrdup(text), strlen(text), &p->dl);
}

static void parsed_release(struct parsed *p)
{
    migration_release(&p->mg);
    diag_list_release(&p->dl);
}

static char *first_error(struct parsed *p)
{
    for (size_t i = 0; i < p->dl.n; i++)
        if (p->dl.items[i].severity == DIAG_ERROR)
            return diag_format(&p->dl, &p->dl.items[i]);
    return xstrdup("");
}

static void test_migration_sections(void **state)
{
    (void)state;
    struct parsed p;
    parse(&p, "20260101120000_users.sql",
          "-- a header\n-- migrate:up\nCREATE TABLE u (id int);\nINSERT INTO u VALUES (1);\n"
          "-- migrate:down transaction:false\nDROP TABLE u;\n");
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.mg.version, "20260101120000");
    assert_string_equal(p.mg.name, "users");
    assert_true(p.mg.up.present && p.mg.up.transaction);
    assert_int_equal(p.mg.up.n, 2);
    assert_int_equal(p.mg.up.line, 2);
    assert_true(p.mg.down.present && !p.mg.down.transaction);
    assert_int_equal(p.mg.down.n, 1);
    assert_int_equal(p.mg.script.stmts[p.mg.down.first].line, 6);
    assert_int_equal(strlen(p.mg.checksum), 64);
    char *sql = migration_section_sql(&p.mg, &p.mg.up);
    assert_string_equal(sql, "CREATE TABLE u (id int);\nINSERT INTO u VALUES (1);\n");
    free(sql);
    parsed_release(&p);
}

static void test_migration_errors(void **state)
{
    (void)state;
    static const struct {
        const char *file, *text, *want;
    } cases[] = {
        {"bad_2026.sql", "-- migrate:up\n",
         "bad_2026.sql: not a migration name: want VERSION_name.sql or VERSION.sql, the version "
         "a number"},
        {"001_.sql", "-- migrate:up\n", "001_.sql: not a migration name"},
        {"20260101000000_a b.sql", "-- migrate:up\n", "20260101000000_a b.sql: not a migration"},
        {"20260101000000_x.sql", "SELECT 1;\n",
         "20260101000000_x.sql:1:1: no '-- migrate:up' line"},
        {"20260101000000_x.sql", "SELECT 1;\n-- migrate:up\nSELECT 2;\n",
         "20260101000000_x.sql:1:1: statement before '-- migrate:up' (on line 2)"},
        {"20260101000000_x.sql", "-- migrate:up\n-- migrate:up\n",
         "20260101000000_x.sql:2:1: a second 'migrate:up' section (the first is on line 1)"},
        {"20260101000000_x.sql", "-- migrate:up\n-- migrate:sideways\n",
         "20260101000000_x.sql:2:1: unknown section 'migrate:sideways'"},
        {"20260101000000_x.sql", "-- migrate:up transaction:maybe\n",
         "20260101000000_x.sql:1:1: unknown option 'transaction:maybe'"},
        {"20260101000000_x.sql", "-- migrate:down\nSELECT 1;\n-- migrate:up\n",
         "20260101000000_x.sql:1:1: the down section comes before the up section (line 3)"},
        {"20260101000000_x.sql", "-- migrate:up\nSELECT 1\n-- migrate:down\nSELECT 2;\n",
         "20260101000000_x.sql:3:1: section marker inside the statement that starts on line 2"},
        {"20260101000000_x.sql", "-- migrate:up\nBEGIN;\nSELECT 1;\nCOMMIT;\n",
         "20260101000000_x.sql:2:1: 'begin' inside a migration"},
        {"20260101000000_x.sql", "-- migrate:up\nSELECT 'open\n",
         "20260101000000_x.sql:2:8: unterminated string"},
        {"20260101000000_x.sql", "-- migrate:up\nSELECT '\xff';\n",
         "20260101000000_x.sql:2:9: invalid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct parsed p;
        parse(&p, cases[i].file, cases[i].text);
        char *have = first_error(&p);
        if (p.rc != OTAP_EINVALID || strncmp(have, cases[i].want, strlen(cases[i].want)))
            fail_msg("case %zu: want [%s], have [%s] (rc %d)", i, cases[i].want, have, p.rc);
        free(have);
        parsed_release(&p);
    }
    /* transaction statements are fine where otap does not manage the transaction */
    struct parsed p;
    parse(&p, "20260101000000_x.sql", "-- migrate:up transaction:false\nBEGIN;\nCOMMIT;\n");
    assert_int_equal(p.rc, 0);
    parsed_release(&p);
}

/* ---- the hard lock ---------------------------------------------------- */

static void test_hardlock_conditions(void **state)
{
    (void)state;
    struct manifest_env envs[2] = {
        {.name = "development", .stage = STAGE_O, .marker = "dev"},
        {.name = "production", .stage = STAGE_P, .marker = "prod", .protected = true}};
    struct manifest m = {.envs = envs, .nenvs = 2};
    struct hardlock_input ok = {
        .m = &m,
        .env = &envs[1],
        .confirm = "YES",
        .url_var = "DATABASE_URL",
        .url_set = true,
        .environment = "production",
        .environment_from = "ENVIRONMENT",
        .check_marker = true,
    };
    char **unmet = NULL;
    size_t n = 0, alloc = 0;
    assert_int_equal(hardlock_check(&ok, &unmet, &n, &alloc), 0);

    static const char *const want[] = {
        "CONFIRM_PROD_MIGRATE is not set",
        "CONFIRM_PROD_MIGRATE must be exactly YES",
        "DATABASE_URL is not set",
        "ENVIRONMENT is not set",
        "ENVIRONMENT is 'development', not production",
        "NODE_ENV is 'development', not production",
        "VERCEL_ENV is 'preview', not production",
        "the marker says dev",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct hardlock_input in = ok;
        switch (i) {
        case 0:
            in.confirm = NULL;
            break;
        case 1:
            in.confirm = "yes";
            break;
        case 2:
            in.url_set = false;
            break;
        case 3:
            in.environment = NULL;
            break;
        case 4:
            in.environment = "development";
            break;
        case 5:
            in.node_env = "development";
            break;
        case 6:
            in.vercel_env = "preview";
            break;
        case 7:
            in.marker_problem = "the marker says dev";
            break;
        }
        n = 0;
        assert_int_equal(hardlock_check(&in, &unmet, &n, &alloc), 1);
        if (strncmp(unmet[0], want[i], strlen(want[i])))
            fail_msg("condition %zu: want [%s], have [%s]", i, want[i], unmet[0]);
        free(unmet[0]);
    }
    /* present and right: NODE_ENV and VERCEL_ENV production pass */
    struct hardlock_input in = ok;
    in.node_env = in.vercel_env = "production";
    n = 0;
    assert_int_equal(hardlock_check(&in, &unmet, &n, &alloc), 0);
    /* every failure at once */
    in = (struct hardlock_input){.m = &m,
                                 .env = &envs[1],
                                 .url_var = "DATABASE_URL",
                                 .node_env = "test",
                                 .vercel_env = "preview",
                                 .check_marker = true,
                                 .marker_problem = "no marker"};
    n = 0;
    assert_int_equal(hardlock_check(&in, &unmet, &n, &alloc), 6);
    xfree_strv(unmet, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sql_split_statements), cmocka_unit_test(test_sql_split_errors),
        cmocka_unit_test(test_sql_split_tokens),     cmocka_unit_test(test_migration_sections),
        cmocka_unit_test(test_migration_errors),     cmocka_unit_test(test_hardlock_conditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the naming of new migrations (src/lib/db/migration.c)
 * and the schema comparison of the drift gate (src/lib/db/db.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "db/db.h"
#include "db/migration.h"

static void test_migration_name_from(void **state)
{
    (void)state;
    static const struct {
        const char *typed, *want;
    } cases[] = {
        {"add_users", "add_users"}, {"Add users-table", "add_users_table"},
        {"v2 Index", "v2_index"},   {"", NULL},
        {"drop;table", NULL},       {"../etc", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = migration_name_from(cases[i].typed);
        if (cases[i].want)
            assert_string_equal(got, cases[i].want);
        else
            assert_null(got);
        free(got);
    }
}

static void test_migration_next_version(void **state)
{
    (void)state;
    char v[MIGRATION_VERSION_LEN + 1];
    time_t t = 1798761600; /* 2027-01-01T00:00:00Z */
    migration_next_version(NULL, t, v);
    assert_string_equal(v, "20270101000000");
    /* a newest file from the future (or this very second) pushes the next one after it */
    struct migration mg = {0};
    snprintf(mg.version, sizeof mg.version, "%s", "20270101000005");
    struct migration_set set = {.items = &mg, .n = 1};
    migration_next_version(&set, t, v);
    assert_string_equal(v, "20270101000006");
    snprintf(mg.version, sizeof mg.version, "%s", "20200101000000");
    migration_next_version(&set, t, v);
    assert_string_equal(v, "20270101000000");
}

/* File names as dbmate reads them: any leading number, a name with dots, or none. */
static void test_migration_file_names(void **state)
{
    (void)state;
    static const struct {
        const char *file, *version, *name; /* version NULL: refused */
    } cases[] = {
        {"20260101000001_users.sql", "20260101000001", "users"},
        {"001_x.sql", "001", "x"},
        {"20240301_add_index.sql", "20240301", "add_index"},
        {"7.sql", "7", ""},
        {"003_add.users.email.sql", "003", "add.users.email"},
        {"99999999999999_late.sql", "99999999999999", "late"},
        {"users.sql", NULL, NULL},
        {"_001.sql", NULL, NULL},
        {"001-users.sql", "001", "users"},
        {"1234example.sql", "1234", "example"},
        {"001_.sql", NULL, NULL},
        {"001_a b.sql", NULL, NULL},
        {"001_users.txt.sql", "001", "users.txt"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct diag_list dl;
        diag_list_init(&dl, "db/migrations");
        struct migration mg;
        char *text = strdup("-- migrate:up\nSELECT 1;\n");
        int rc = migration_parse_take(&mg, cases[i].file, cases[i].file, text, strlen(text), &dl);
        if (cases[i].version) {
            if (rc != 0)
                fail_msg("'%s' refused: %s", cases[i].file, dl.n ? dl.items[0].msg : "?");
            assert_string_equal(mg.version, cases[i].version);
            assert_string_equal(mg.name, cases[i].name);
        } else {
            if (rc == 0)
                fail_msg("'%s' accepted as %s", cases[i].file, mg.version);
            assert_non_null(strstr(dl.items[0].msg, "not a migration name"));
        }
        migration_release(&mg);
        diag_list_release(&dl);
    }
}

static void test_db_schema_first_difference(void **state)
{
    (void)state;
    assert_int_equal(db_schema_first_difference("a\nb\n", "a\nb\n"), 0);
    assert_int_equal(db_schema_first_difference("a\nb\n", "a\nc\n"), 2);
    assert_int_equal(db_schema_first_difference("a\n", "a\nb\n"), 2);
    assert_int_equal(db_schema_first_difference("x", ""), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migration_name_from),
        cmocka_unit_test(test_migration_next_version),
        cmocka_unit_test(test_migration_file_names),
        cmocka_unit_test(test_db_schema_first_difference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

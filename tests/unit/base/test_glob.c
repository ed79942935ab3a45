/*
 * Unit tests for src/lib/base/glob.c: '*' and '?' within a segment, '**'
 * across segments, classes, and the edges (empty segments, a lone '[').
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "base/glob.h"

static void test_glob(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *path;
        bool want;
    } cases[] = {
        {"*.py", "a.py", true},
        {"*.py", "api/a.py", false},
        {"api/*.py", "api/a.py", true},
        {"api/*.py", "api/v1/a.py", false},
        {"api/**/*.py", "api/a.py", true},
        {"api/**/*.py", "api/v1/a.py", true},
        {"api/**/*.py", "api/v1/v2/a.py", true},
        {"api/**/*.py", "apix/a.py", false},
        {"api/**", "api/v1/a.py", true},
        {"api/**", "api", false},
        {"**/*.py", "a.py", true},
        {"**/*.py", "x/y/z.py", true},
        {"**/test_*.py", "x/test_a.py", true},
        {"**/test_*.py", "x/mytest_a.py", false},
        {"**", "anything/at/all", true},
        {"db/migrations/*.sql", "db/migrations/001_x.sql", true},
        {"db/migrations/*.sql", "db/migrations/old/001_x.sql", false},
        {"?.c", "a.c", true},
        {"?.c", "/.c", false},
        {"[ab].c", "b.c", true},
        {"[ab].c", "c.c", false},
        {"[!ab].c", "c.c", true},
        {"[a-c]/x", "b/x", true},
        {"[", "[", true},
        {"a[", "a[", true},
        {"", "", true},
        {"", "a", false},
        {"a", "", false},
        {"*", "", true},
        {"src/*/main.c", "src//main.c", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (glob_match(cases[i].pattern, cases[i].path) != cases[i].want)
            fail_msg("'%s' on '%s': want %s", cases[i].pattern, cases[i].path,
                     cases[i].want ? "a match" : "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_glob)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

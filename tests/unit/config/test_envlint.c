/* Unit tests for src/lib/envlint.c: every read form, and what is not a read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/envleaks.h"
#include "config/envlint.h"

static void test_envlint_forms(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        const char *name; /* NULL: no read */
        int col;
    } cases[] = {
        {"char *u = getenv(\"DATABASE_URL\");", "DATABASE_URL", 11},
        {"p = secure_getenv( \"SECRET_KEY\" )", "SECRET_KEY", 5},
        {"v := os.Getenv(\"PORT\")", "PORT", 6},
        {"v, ok := os.LookupEnv(\"PORT\")", "PORT", 10},
        {"db = os.environ[\"DATABASE_URL\"]", "DATABASE_URL", 6},
        {"db = os.environ['DATABASE_URL']", "DATABASE_URL", 6},
        {"x = os.environ.get('FEATURE_X', '0')", "FEATURE_X", 5},
        {"k = os.getenv(\"JWT_SECRET\")", "JWT_SECRET", 5},
        {"const p = process.env.PORT;", "PORT", 11},
        {"const p = process.env['CORS_ORIGINS'];", "CORS_ORIGINS", 11},
        {"const a = import.meta.env.VITE_API_URL", "VITE_API_URL", 11},
        {"key = ENV[\"STRIPE_KEY\"]", "STRIPE_KEY", 7},
        {"key = ENV.fetch('STRIPE_KEY')", "STRIPE_KEY", 7},
        /* not literal, or not a read */
        {"getenv(name)", NULL, 0},
        {"process.environment.PORT", NULL, 0},
        {"my_getenv_wrapper(\"X\")", NULL, 0},
        {"os.environ", NULL, 0},
        {"const e = process.env;", NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct envlint l = {0};
        envlint_scan_buffer(cases[i].code, strlen(cases[i].code), "f", &l);
        if (!cases[i].name) {
            if (l.n)
                print_message("'%s' matched '%s'\n", cases[i].code, l.items[0].name);
            assert_int_equal(l.n, 0);
        } else {
            if (l.n != 1)
                print_message("'%s': %zu reads\n", cases[i].code, l.n);
            assert_int_equal(l.n, 1);
            assert_string_equal(l.items[0].name, cases[i].name);
            assert_int_equal(l.items[0].line, 1);
            assert_int_equal(l.items[0].col, cases[i].col);
        }
        envlint_release(&l);
    }
}

static void test_envlint_lines(void **state)
{
    (void)state;
    const char code[] = "a\nb = getenv(\"A\")\n\nc = process.env.B + process.env.C\n";
    struct envlint l = {0};
    envlint_scan_buffer(code, strlen(code), "x.js", &l);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.items[0].line, 2);
    assert_int_equal(l.items[1].line, 4);
    assert_int_equal(l.items[2].line, 4);
    assert_int_equal(l.items[2].col, 21);
    envlint_release(&l);
    assert_true(envlint_is_system_var("PATH"));
    assert_false(envlint_is_system_var("DATABASE_URL"));
}

static void test_envleaks_names(void **state)
{
    (void)state;
    const char *yes[] = {
        ".env",         ".env.local", ".env.production", "app/.env.staging.local", "docker.env",
        ".env.example", NULL};
    const char *no[] = {"env.c", ".envrc", "src/environment.py", "env", ".environment", NULL};
    for (int i = 0; yes[i]; i++)
        assert_true(envleaks_is_dotenv_name(yes[i]));
    for (int i = 0; no[i]; i++) {
        if (envleaks_is_dotenv_name(no[i]))
            print_message("'%s' taken for a dotenv file\n", no[i]);
        assert_false(envleaks_is_dotenv_name(no[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envlint_forms),
        cmocka_unit_test(test_envlint_lines),
        cmocka_unit_test(test_envleaks_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

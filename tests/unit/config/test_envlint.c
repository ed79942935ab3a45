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
        {"os.environ.setdefault(\"DJANGO_SETTINGS\", \"x\")", "DJANGO_SETTINGS", 1},
        {"if \"FEATURE_Y\" in os.environ:", "FEATURE_Y", 4},
        {"from os import environ\nv = environ.get(\"REDIS_URL\")", "REDIS_URL", 5},
        /* not literal, or not a read */
        {"def app(environ, start):\n    p = environ['PATH_INFO']", NULL, 0},
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
            assert_int_equal(l.items[0].line, strchr(cases[i].code, '\n') ? 2 : 1);
            assert_int_equal(l.items[0].col, cases[i].col);
        }
        envlint_release(&l);
    }
}

/* const { A, B: b, C = 1 } = process.env: every name */
static void test_envlint_destructuring(void **state)
{
    (void)state;
    const char code[] = "const { API_URL, TOKEN: token,\n  RETRIES = 3 } = process.env;\n";
    struct envlint l = {0};
    envlint_scan_buffer(code, strlen(code), "x.ts", &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0].name, "API_URL");
    assert_string_equal(l.items[1].name, "TOKEN");
    assert_string_equal(l.items[2].name, "RETRIES");
    assert_int_equal(l.items[2].line, 2);
    envlint_release(&l);
}

/* Reads otap cannot name are listed apart, never counted as in the contract. */
static void test_envlint_unresolved(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        size_t unresolved;
    } cases[] = {
        {"v = os.environ.get(key)", 1},
        {"v = os.environ[name]", 1},
        {"v = os.getenv(f\"{p}_URL\")", 1},
        {"const v = process.env[key]", 1},
        {"v = ENV.fetch(name)", 1},
        {"x := os.Getenv(k)", 1},
        {"char *getenv(const char *name);", 0},
        {"v = os.environ.get('A')", 0},
        {"env = dict(os.environ)", 0},
        {"def app(environ, start):\n    return environ[key]", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct envlint l = {0};
        envlint_scan_buffer(cases[i].code, strlen(cases[i].code), "f", &l);
        if (l.nunresolved != cases[i].unresolved)
            fail_msg("'%s': %zu unresolved", cases[i].code, l.nunresolved);
        envlint_release(&l);
    }
}

/* pydantic BaseSettings: fields, env_prefix, aliases, methods and nested configs left out */
static void test_envlint_pydantic(void **state)
{
    (void)state;
    const char code[] =
        "from pydantic import Field, AliasChoices\n"
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n"
        "\n"
        "class Settings(BaseSettings):\n"
        "    model_config = SettingsConfigDict(\n"
        "        env_prefix=\"APP_\",\n"
        "    )\n"
        "    secret_key: str\n"
        "    # a comment: not a field\n"
        "    db: str = Field(\n"
        "        validation_alias=\"DATABASE_URL\",\n"
        "    )\n"
        "    redis: str = Field(validation_alias=AliasChoices(\"REDIS\", \"REDIS_URL\"))\n"
        "    _private: int = 0\n"
        "\n"
        "    @property\n"
        "    def url(self) -> str:\n"
        "        x: int = 1\n"
        "        return self.db\n"
        "    DEBUG: bool = False\n"
        "\n"
        "class Other:\n"
        "    NOT_A_SETTING: str = \"x\"\n"
        "\n"
        "class Legacy(pydantic.BaseSettings):\n"
        "    TOKEN: str\n"
        "    class Config:\n"
        "        env_prefix = \"OLD_\"\n";
    struct envlint l = {0};
    envlint_pydantic(code, strlen(code), "settings.py", &l);
    const char *want[] = {"APP_SECRET_KEY", "DATABASE_URL", "APP_DEBUG", "OLD_TOKEN"};
    int lines[] = {8, 10, 20, 26};
    assert_int_equal(l.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(l.items[i].name, want[i]);
        assert_int_equal(l.items[i].line, lines[i]);
    }
    assert_int_equal(l.nunresolved, 1);
    assert_non_null(strstr(l.unresolved[0].name, "redis"));
    envlint_release(&l);
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
        cmocka_unit_test(test_envlint_forms),      cmocka_unit_test(test_envlint_destructuring),
        cmocka_unit_test(test_envlint_unresolved), cmocka_unit_test(test_envlint_pydantic),
        cmocka_unit_test(test_envlint_lines),      cmocka_unit_test(test_envleaks_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/lib/manifest.c: the schema, every check, the lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest/manifest.h"

static const char good[] =
    "project: shop\n"
    "environments:\n"
    "  - name: development\n"
    "    branches: [\"feature/*\"]\n"
    "  - name: test\n"
    "    branches: [dev]\n"
    "    requires: [ci]\n"
    "  - name: acceptance\n"
    "    branches: [staging]\n"
    "  - name: production\n"
    "    branches: [main]\n"
    "    requires: [ci, signoff]\n"
    "gates:\n"
    "  - { name: ci, run: make check }\n"
    "services:\n"
    "  api: { port: 9000, depends_on: [db], health: { liveness: /health } }\n"
    "  db: { port: 9020 }\n"
    "config:\n"
    "  ENVIRONMENT: { type: enum, values: [development, test, staging, production], "
    "aliases: [PYTHON_ENV], required: true }\n"
    "  SECRET_KEY: { type: secret, min_length: 32, required: [production] }\n"
    "database: { url: DATABASE_URL }\n";

/* good[] names DATABASE_URL in database: but not in config; add it */
static char *good_manifest(void)
{
    size_t n = strlen(good) + 64;
    char *s = malloc(n);
    snprintf(s, n, "%s", good);
    char *at = strstr(s, "database:");
    memmove(at + strlen("  DATABASE_URL: { type: url }\n"), at, strlen(at) + 1);
    memcpy(at, "  DATABASE_URL: { type: url }\n", strlen("  DATABASE_URL: { type: url }\n"));
    return s;
}

static struct manifest *load(const char *text, struct diag_list *dl)
{
    diag_list_init(dl, "otap.yaml");
    return manifest_load_buffer(text, strlen(text), "otap.yaml", dl);
}

/* Is there a diagnostic at line:col whose message contains needle? */
static int has_diag(const struct diag_list *dl, int line, int col, const char *needle)
{
    for (size_t i = 0; i < dl->n; i++)
        if (dl->items[i].line == line && (col == 0 || dl->items[i].col == col) &&
            strstr(dl->items[i].msg, needle))
            return 1;
    for (size_t i = 0; i < dl->n; i++)
        print_message("  have %d:%d: %s\n", dl->items[i].line, dl->items[i].col, dl->items[i].msg);
    return 0;
}

static void test_manifest_loads_good(void **state)
{
    (void)state;
    struct diag_list dl;
    char *text = good_manifest();
    struct manifest *m = load(text, &dl);
    assert_non_null(m);
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
    assert_string_equal(m->project, "shop");
    assert_int_equal(m->nenvs, 4);
    assert_int_equal(m->envs[2].stage, STAGE_A);
    /* defaults: the marker by stage, production protected */
    assert_string_equal(m->envs[0].marker, "dev");
    assert_string_equal(m->envs[3].marker, "prod");
    assert_true(m->envs[3].protected);
    assert_false(m->envs[2].protected);
    assert_string_equal(m->database.migrations, "db/migrations");
    assert_int_equal(m->services[0].port, 9000);
    assert_string_equal(m->services[0].health.liveness, "/health");
    manifest_free(m);
    diag_list_release(&dl);
    free(text);
}

static void test_manifest_lookups(void **state)
{
    (void)state;
    struct diag_list dl;
    char *text = good_manifest();
    struct manifest *m = load(text, &dl);
    assert_non_null(m);
    assert_string_equal(manifest_env_find(m, "prod")->name, "production");
    assert_string_equal(manifest_env_find(m, "A")->name, "acceptance");
    assert_string_equal(manifest_env_find(m, "staging")->name, "acceptance");
    assert_null(manifest_env_find(m, "qa"));
    const char *glob = NULL;
    assert_string_equal(manifest_env_for_branch(m, "feature/login/x", &glob)->name, "development");
    assert_string_equal(glob, "feature/*");
    assert_string_equal(manifest_env_for_branch(m, "main", NULL)->name, "production");
    assert_null(manifest_env_for_branch(m, "release/1", NULL));
    assert_true(manifest_var_required_in(&m->config[1], "production"));
    assert_false(manifest_var_required_in(&m->config[1], "test"));
    assert_true(manifest_var_required_in(&m->config[0], "test"));
    manifest_free(m);
    diag_list_release(&dl);
    free(text);
}

static void test_manifest_reports_every_problem(void **state)
{
    (void)state;
    struct diag_list dl;
    struct manifest *m = load("project: x\n"
                              "environmnts: []\n"
                              "services:\n"
                              "  api: { prot: 1 }\n"
                              "slo: { p95_ms: fast }\n",
                              &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 2, 1,
                         "unknown key 'environmnts' in the manifest (did you mean "
                         "'environments'?)"));
    assert_true(has_diag(&dl, 4, 10, "unknown key 'prot' in a service (did you mean 'port'?)"));
    assert_true(has_diag(&dl, 5, 16, "'p95_ms' must be a number, not 'fast'"));
    assert_true(has_diag(&dl, 1, 1, "missing 'environments'"));
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 4);
    diag_list_release(&dl);
}

static void test_manifest_stage_order(void **state)
{
    (void)state;
    struct diag_list dl;
    struct manifest *m = load("project: x\n"
                              "environments:\n"
                              "  - name: production\n"
                              "  - name: staging\n",
                              &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 4, 11, "comes after 'production' (P); the order is fixed"));
    diag_list_release(&dl);

    /* fewer stages are fine as long as the order holds */
    m = load("project: x\nenvironments:\n  - name: test\n  - name: production\n", &dl);
    assert_non_null(m);
    manifest_free(m);
    diag_list_release(&dl);

    /* a custom name needs its stage */
    m = load("project: x\nenvironments:\n  - name: preview\n", &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 3, 11, "cannot tell which OTAP stage"));
    diag_list_release(&dl);
    m = load("project: x\nenvironments:\n  - name: preview\n    stage: A\n", &dl);
    assert_non_null(m);
    assert_int_equal(m->envs[0].stage, STAGE_A);
    manifest_free(m);
    diag_list_release(&dl);
}

static void test_manifest_branch_claimed_twice(void **state)
{
    (void)state;
    struct diag_list dl;
    struct manifest *m = load("project: x\n"
                              "environments:\n"
                              "  - { name: development, branches: [\"feature/*\"] }\n"
                              "  - { name: test, branches: [feature/login] }\n",
                              &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 4, 0,
                         "branch 'feature/login' of environment 'test' is also "
                         "claimed by 'feature/*'"));
    diag_list_release(&dl);
}

static void test_manifest_service_cycle(void **state)
{
    (void)state;
    struct diag_list dl;
    struct manifest *m = load("project: x\n"
                              "environments: [{ name: development }]\n"
                              "services:\n"
                              "  a: { depends_on: [b] }\n"
                              "  b: { depends_on: [c] }\n"
                              "  c: { depends_on: [a, dbb] }\n"
                              "  db: {}\n",
                              &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 4, 3, "cycle: a → b → c → a"));
    assert_true(has_diag(&dl, 6, 21, "unknown service 'dbb' (did you mean 'db'?)"));
    diag_list_release(&dl);
}

static void test_manifest_requires_unknown_gate(void **state)
{
    (void)state;
    struct diag_list dl;
    struct manifest *m = load("project: x\n"
                              "gates: [{ name: unit, run: make test }]\n"
                              "environments:\n"
                              "  - { name: test, requires: [unti, sign-off] }\n",
                              &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 4, 30, "requires unknown gate 'unti' (did you mean 'unit'?)"));
    assert_true(has_diag(&dl, 4, 30, "requires unknown gate 'sign-off' (did you mean 'signoff'?)"));
    diag_list_release(&dl);
}

/* database.tool_scheme: a scheme as migration tools spell it, nothing else */
static void test_manifest_tool_scheme(void **state)
{
    (void)state;
    static const struct {
        const char *scheme;
        bool ok;
    } cases[] = {
        {"postgresql+asyncpg", true},
        {"postgres", true},
        {"db:pg", true},
        {"Postgres", false},
        {"postgres://", false},
        {"a b", false},
        {"9pg", false},
        {"postgresql+psycopg2", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "project: x\nenvironments: [{ name: development }]\n"
                 "config: { DATABASE_URL: { type: url } }\n"
                 "database: { url: DATABASE_URL, tool_scheme: '%s' }\n",
                 cases[i].scheme);
        struct diag_list dl;
        struct manifest *m = load(text, &dl);
        if (cases[i].ok) {
            assert_non_null(m);
            assert_string_equal(m->database.tool_scheme, cases[i].scheme);
        } else {
            assert_null(m);
            assert_true(has_diag(&dl, 4, 0, "'tool_scheme' must be a URL scheme"));
        }
        manifest_free(m);
        diag_list_release(&dl);
    }
}

static void test_manifest_rejects_aliases_and_syntax(void **state)
{
    (void)state;
    struct diag_list dl;
    struct manifest *m = load("project: &p x\nenvironments: *p\n", &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 2, 16, "YAML aliases (*p) are not supported"));
    diag_list_release(&dl);

    m = load("project: x\nproject: y\n", &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 2, 1, "duplicate key"));
    diag_list_release(&dl);

    m = load("project: [x\n", &dl);
    assert_null(m);
    assert_true(dl.n >= 1);
    diag_list_release(&dl);

    m = load("", &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 1, 1, "the manifest is empty"));
    diag_list_release(&dl);

    static const char nul[] = "project: x\0y\n";
    diag_list_init(&dl, "otap.yaml");
    m = manifest_load_buffer(nul, sizeof(nul) - 1, "otap.yaml", &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 0, 0, "NUL byte"));
    diag_list_release(&dl);
}

static void test_manifest_contract_rules(void **state)
{
    (void)state;
    struct diag_list dl;
    struct manifest *m = load("project: x\n"
                              "environments: [{ name: development }]\n"
                              "config:\n"
                              "  A: { type: strng }\n"
                              "  B: { type: enum }\n"
                              "  C: { type: secret, default: hunter2 }\n"
                              "  D: { type: int, schemes: [http] }\n"
                              "  E: { aliases: [F] }\n"
                              "  G: { aliases: [F], required: [prodution] }\n"
                              "  lower: {}\n",
                              &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 4, 14, "unknown type 'strng' (did you mean 'string'?)"));
    assert_true(has_diag(&dl, 5, 3, "of type 'enum' needs 'values'"));
    assert_true(has_diag(&dl, 6, 22, "secret 'C' cannot have a default"));
    assert_true(has_diag(&dl, 7, 19, "'schemes' does not apply to variable 'D' of type 'int'"));
    assert_true(has_diag(&dl, 9, 3, "alias 'F' is claimed by both 'E' and 'G'"));
    assert_true(has_diag(&dl, 9, 3, "required in unknown environment 'prodution'"));
    assert_true(has_diag(&dl, 10, 3, "must be an upper-case name"));
    diag_list_release(&dl);
}

static void test_manifest_flags_default_off(void **state)
{
    (void)state;
    struct diag_list dl;
    struct manifest *m = load("project: x\n"
                              "environments: [{ name: staging }]\n"
                              "flags:\n"
                              "  a: { owner: ops, expires: 2026-02-30, default: true }\n"
                              "  b: { expires: 2026-12-01, on: [stagng] }\n",
                              &dl);
    assert_null(m);
    assert_true(has_diag(&dl, 4, 29, "'expires' must be a date YYYY-MM-DD, not '2026-02-30'"));
    assert_true(has_diag(&dl, 4, 50, "flag 'a' must default off"));
    assert_true(has_diag(&dl, 5, 3, "flag 'b' needs an 'owner'"));
    assert_true(has_diag(&dl, 5, 3, "on in unknown environment 'stagng'"));
    diag_list_release(&dl);
}

static void test_manifest_warnings_do_not_block(void **state)
{
    (void)state;
    struct diag_list dl;
    struct manifest *m =
        load("project: x\n"
             "environments:\n"
             "  - { name: production, protected: false, branches: [main, main] }\n",
             &dl);
    assert_non_null(m);
    assert_int_equal(diag_count(&dl, DIAG_WARNING), 2);
    assert_false(m->envs[0].protected);
    manifest_free(m);
    diag_list_release(&dl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_loads_good),
        cmocka_unit_test(test_manifest_lookups),
        cmocka_unit_test(test_manifest_reports_every_problem),
        cmocka_unit_test(test_manifest_stage_order),
        cmocka_unit_test(test_manifest_branch_claimed_twice),
        cmocka_unit_test(test_manifest_service_cycle),
        cmocka_unit_test(test_manifest_requires_unknown_gate),
        cmocka_unit_test(test_manifest_tool_scheme),
        cmocka_unit_test(test_manifest_rejects_aliases_and_syntax),
        cmocka_unit_test(test_manifest_contract_rules),
        cmocka_unit_test(test_manifest_flags_default_off),
        cmocka_unit_test(test_manifest_warnings_do_not_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the promotion precondition table (src/lib/deploy/
 * promote.c): one table that promote judges by and explain describes.
 * The promotion itself runs against real services in t0600 and t0610.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deploy/promote.h"

static void test_promote_condition_table(void **state)
{
    (void)state;
    static const char *const order[] = {"stage",  "gates",     "contract",
                                        "driver", "readiness", "database"};
    size_t n = 0;
    const struct promote_condition *c;
    for (; (c = promote_condition_at(n)); n++) {
        assert_true(n < sizeof order / sizeof order[0]);
        assert_string_equal(c->id, order[n]);
        assert_true(strlen(c->summary) > 10);
        /* a rollback is asked everything but the gates: the build passed them to get there */
        assert_int_equal(c->rollback, strcmp(c->id, "gates") != 0);
    }
    assert_int_equal(n, sizeof order / sizeof order[0]);
}

static const char manifest_text[] =
    "project: t\n"
    "environments:\n"
    "  - { name: development, deploy: { driver: local, service: api } }\n"
    "  - { name: production, requires: [ci, signoff], protected: true, marker: prod,\n"
    "      deploy: { run: 'true' } }\n"
    "gates: [{ name: ci, run: make test }]\n"
    "services: { api: { port: 9000, health: { readiness: /ready } } }\n"
    "ports: { range: 9000-9099 }\n"
    "config: { DATABASE_URL: { type: url } }\n"
    "database: { url: DATABASE_URL }\n";

static int has(const struct strvec *v, const char *needle)
{
    for (size_t i = 0; i < v->n; i++)
        if (strstr(v->items[i], needle))
            return 1;
    for (size_t i = 0; i < v->n; i++)
        print_message("  have: %s\n", v->items[i]);
    return 0;
}

static void test_promote_conditions_for(void **state)
{
    (void)state;
    struct diag_list dl;
    diag_list_init(&dl, "otap.yaml");
    struct manifest *m =
        manifest_load_buffer(manifest_text, strlen(manifest_text), "otap.yaml", &dl);
    for (size_t i = 0; i < dl.n; i++)
        print_message("%d:%d: %s\n", dl.items[i].line, dl.items[i].col, dl.items[i].msg);
    assert_non_null(m);
    struct strvec v = STRVEC_INIT;
    promote_conditions_for(m, &m->envs[0], &v);
    assert_true(has(&v, "first stage"));
    assert_true(has(&v, "the 'local' driver can deploy"));
    assert_true(has(&v, "readiness probe"));
    assert_true(has(&v, "marker reads 'dev'"));
    assert_false(has(&v, "protected"));
    strvec_release(&v);
    promote_conditions_for(m, &m->envs[1], &v);
    assert_true(has(&v, "live in development (O)"));
    assert_true(has(&v, "gate 'ci' passed for this build (make test)"));
    assert_true(has(&v, "signed off in development"));
    assert_true(has(&v, "the 'run' driver"));
    assert_true(has(&v, "marker reads 'prod'"));
    assert_true(has(&v, "CONFIRM_PROD_MIGRATE=YES"));
    strvec_release(&v);
    manifest_free(m);
    diag_list_release(&dl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_promote_condition_table),
        cmocka_unit_test(test_promote_conditions_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

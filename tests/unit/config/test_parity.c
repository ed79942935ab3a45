/*
 * Unit tests for src/lib/config/parity.c: two environments' files
 * compared besides their values, on a temporary project.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/parity.h"
#include "base/xalloc.h"

static const char manifest_text[] =
    "project: t\n"
    "environments:\n"
    "  - { name: development }\n"
    "  - { name: staging }\n"
    "config:\n"
    "  ENVIRONMENT: { type: enum, values: [development, staging] }\n"
    "  DATABASE_URL: { type: url, schemes: [postgresql, sqlite] }\n"
    "  PORT: { type: port }\n"
    "  SENTRY_DSN: { type: url, required: [staging] }\n"
    "  LOG_LEVEL: { aliases: [LOGLEVEL] }\n";

static void write_file(const char *dir, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

static const struct parity_diff *find(const struct parity *p, const char *var, const char *kind)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->items[i].variable, var) && !strcmp(p->items[i].kind, kind))
            return &p->items[i];
    for (size_t i = 0; i < p->n; i++)
        print_message("  have %s %s: %s\n", p->items[i].kind, p->items[i].variable,
                      p->items[i].message);
    return NULL;
}

static void test_parity_differences(void **state)
{
    (void)state;
    char dir[] = "/tmp/otap-parity-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "otap.yaml", manifest_text);
    write_file(dir, ".env.development",
               "DATABASE_URL=sqlite:dev.db\nPORT=9000\nLOGLEVEL=debug\nONLY_DEV=1\n");
    write_file(dir, ".env.staging",
               "DATABASE_URL=postgresql://app:Zq8vN3xT1pL6@db/app\nPORT=ninety\n"
               "SENTRY_DSN=https://k@sentry.example/1\nLOG_LEVEL=info\n");
    char *path = xasprintf("%s/otap.yaml", dir);
    struct diag_list dl;
    diag_list_init(&dl, "otap.yaml");
    struct manifest *m = manifest_load_file(path, &dl);
    assert_non_null(m);
    struct contract_eval a, b;
    assert_int_equal(contract_eval(&a, m, "otap.yaml", "development", NULL, NULL), 0);
    assert_int_equal(contract_eval(&b, m, "otap.yaml", "staging", NULL, NULL), 0);
    struct parity p;
    parity_compare(&a, &b, &p);
    assert_non_null(find(&p, "SENTRY_DSN", "required"));
    assert_non_null(find(&p, "SENTRY_DSN", "presence"));
    assert_non_null(find(&p, "DATABASE_URL", "scheme"));
    assert_non_null(find(&p, "PORT", "type"));
    assert_non_null(find(&p, "ONLY_DEV", "presence"));
    /* an alias in one file and the canonical name in the other are the same variable */
    assert_null(find(&p, "LOG_LEVEL", "presence"));
    assert_null(find(&p, "LOGLEVEL", "presence"));
    /* no message carries a value */
    for (size_t i = 0; i < p.n; i++) {
        assert_null(strstr(p.items[i].message, "Zq8vN3xT1pL6"));
        assert_null(strstr(p.items[i].message, "ninety"));
    }
    parity_release(&p);
    /* the same environment against itself: no difference */
    parity_compare(&a, &a, &p);
    assert_int_equal(p.n, 0);
    parity_release(&p);
    contract_eval_release(&a);
    contract_eval_release(&b);
    manifest_free(m);
    diag_list_release(&dl);
    free(path);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parity_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for src/lib/ci: the run order (needs first, manifest order
 * otherwise, the built-ins environments require), the commands of the
 * built-in gates, and JUnit text escaping (markup, control bytes, bad UTF-8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/diag.h"
#include "ci/ci.h"
#include "ci/junit.h"

static struct manifest *load(const char *yaml)
{
    struct diag_list d;
    diag_list_init(&d, "otap.yaml");
    struct manifest *m = manifest_load_buffer(yaml, strlen(yaml), "otap.yaml", &d);
    if (!m)
        fail_msg("manifest: %s", d.n ? d.items[0].msg : "?");
    diag_list_release(&d);
    return m;
}

static const char *const yaml =
    "project: p\n"
    "environments:\n"
    "  - { name: test, marker: dev, requires: [e2e, secrets] }\n"
    "  - { name: production, marker: prod, requires: [signoff, tag, policy] }\n"
    "gates:\n"
    "  - { name: e2e, run: 'true', needs: [unit, contract] }\n"
    "  - { name: lint, run: 'true' }\n"
    "  - { name: unit, run: 'true', needs: [lint] }\n";

static char *order(const struct ci_plan *p)
{
    static char buf[512];
    buf[0] = '\0';
    for (size_t i = 0; i < p->n; i++) {
        strcat(buf, i ? " " : "");
        strcat(buf, p->steps[i].name);
    }
    return buf;
}

static void test_order(void **state)
{
    (void)state;
    struct manifest *m = load(yaml);
    struct ci_plan p;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(ci_plan_make(m, NULL, 0, "/usr/bin/otap", ".", &p, &err), 0);
    assert_string_equal(order(&p), "lint unit contract e2e secrets policy");
    /* a built-in runs otap, every call counted */
    const struct ci_step *c = &p.steps[2];
    assert_null(c->gate);
    assert_non_null(strstr(c->command, "'/usr/bin/otap' env check --env test || s=1;"));
    assert_non_null(strstr(c->command, "'/usr/bin/otap' env sync --check || s=1; exit $s"));
    ci_plan_release(&p);

    char *names[] = {"e2e"};
    assert_int_equal(ci_plan_make(m, names, 1, "otap", ".", &p, &err), 0);
    assert_string_equal(order(&p), "lint unit contract e2e");
    ci_plan_release(&p);

    char *tag[] = {"tag"};
    assert_int_equal(ci_plan_make(m, tag, 1, "otap", ".", &p, &err), OTAP_EUSAGE);
    assert_non_null(strstr(err.msg, "judged when promoting"));
    otap_err_release(&err);
    char *none[] = {"nope"};
    assert_int_equal(ci_plan_make(m, none, 1, "otap", ".", &p, &err), OTAP_EUSAGE);
    otap_err_release(&err);
    manifest_free(m);
}

static void test_manifest_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *gates, *want;
    } cases[] = {
        {"  - { name: a, run: x, needs: [b] }\n  - { name: b, run: x, needs: [a] }\n",
         "in a circle: a -> b -> a"},
        {"  - { name: a, run: x, needs: [nope] }\n", "needs unknown gate 'nope'"},
        {"  - { name: a, run: x, needs: [signoff] }\n", "judged when promoting"},
        {"  - { name: a, run: x, services: [web] }\n", "unknown service 'web'"},
        {"  - { name: a, run: x, env: staging }\n", "unknown environment 'staging'"},
        {"  - { name: secrets, run: x }\n", "is a built-in gate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *y = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&y, &n);
        fprintf(f, "project: p\nenvironments:\n  - { name: test, marker: dev }\ngates:\n%s",
                cases[i].gates);
        fclose(f);
        struct diag_list d;
        diag_list_init(&d, "otap.yaml");
        struct manifest *m = manifest_load_buffer(y, n, "otap.yaml", &d);
        bool found = false;
        for (size_t k = 0; k < d.n; k++)
            found |= strstr(d.items[k].msg, cases[i].want) != NULL;
        if (m || !found)
            fail_msg("gates %s: want an error with '%s'", cases[i].gates, cases[i].want);
        diag_list_release(&d);
        free(y);
    }
}

static void test_junit_escaping(void **state)
{
    (void)state;
    struct ci_plan p = {0};
    struct ci_step s[2];
    memset(s, 0, sizeof s);
    s[0].name = "a<b>&\"c\"";
    s[0].status = CI_FAIL;
    s[0].reason = "exit 1";
    strbuf_init(&s[0].tail, 0);
    strbuf_add(&s[0].tail, "ok\x01\xff\xc3\xa9 <tag> & done\n", 21);
    s[1].name = "skip";
    s[1].status = CI_SKIPPED;
    s[1].reason = "not run";
    strbuf_init(&s[1].tail, 0);
    p.steps = s;
    p.n = 2;
    struct strbuf x = STRBUF_INIT;
    ci_junit(&x, &p, "proj", "2026-11-30T10:00:00");
    assert_non_null(strstr(x.buf, "name=\"a&lt;b&gt;&amp;&quot;c&quot;\""));
    assert_non_null(strstr(x.buf, "ok\xEF\xBF\xBD\xEF\xBF\xBD\xc3\xa9 &lt;tag&gt; &amp; done"));
    assert_non_null(strstr(x.buf, "<skipped message=\"not run\"/>"));
    assert_non_null(strstr(x.buf, "tests=\"2\" failures=\"1\""));
    strbuf_release(&x);
    strbuf_release(&s[0].tail);
    strbuf_release(&s[1].tail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_manifest_refusals),
        cmocka_unit_test(test_junit_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Flag changes through a real SQLite state store: the manifest and store
 * round trip, the ledger's before and after, enable_on_promote and its
 * undoing by a rollback (a person's later change stands); the --rule
 * parser; when a state is fully on; flag reads found in source text.
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

#include "base/diag.h"
#include "base/xalloc.h"
#include "flags/flag_change.h"
#include "flags/flag_manifest.h"
#include "flags/flag_refs.h"
#include "state/ledger.h"
#include "state/store.h"

static const char manifest_text[] =
    "project: t\n"
    "environments:\n"
    "  - { name: staging, marker: dev }\n"
    "  - { name: production, marker: prod, protected: true }\n"
    "flags:\n"
    "  checkout:\n"
    "    owner: web\n"
    "    expires: 2999-12-31\n"
    "    kind: operational\n"
    "    rollout: 20\n"
    "    on: [staging]\n"
    "    enable_on_promote: [production]\n"
    "    rules:\n"
    "      - { attr: email, ends_with: '@databiz.nl', variant: on }\n";

struct fixture {
    char dir[64];
    struct manifest *m;
    struct store *s;
};

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    strcpy(fx->dir, "/tmp/otap-flagchange-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    struct diag_list dl;
    diag_list_init(&dl, "otap.yaml");
    fx->m = manifest_load_buffer(manifest_text, strlen(manifest_text), "otap.yaml", &dl);
    assert_non_null(fx->m);
    assert_int_equal(dl.n, 0);
    diag_list_release(&dl);
    char *url = xasprintf("sqlite:%s/state.db", fx->dir);
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(store_open_url(&fx->s, url, fx->dir, &err), 0);
    free(url);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    store_close(fx->s);
    manifest_free(fx->m);
    char *cmd = xasprintf("rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(fx);
    return 0;
}

static json_t *eval(struct fixture *fx, const char *env, const char *ctx_text,
                    struct flag_result *r, struct flag_def *def)
{
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(flags_resolve(fx->s, &fx->m->flags[0], env, def, NULL, &err), 0);
    json_t *ctx = json_loads(ctx_text, 0, NULL);
    flag_eval(def, ctx, r);
    return ctx;
}

static void expect(struct fixture *fx, const char *env, const char *ctx_text, const char *variant,
                   const char *reason)
{
    struct flag_result r;
    struct flag_def def;
    json_t *ctx = eval(fx, env, ctx_text, &r, &def);
    assert_string_equal(r.reason, reason);
    assert_string_equal(r.variant, variant);
    json_decref(ctx);
    flag_def_release(&def);
}

static json_t *state_of(struct fixture *fx, const char *env)
{
    struct otap_err err = OTAP_ERR_INIT;
    json_t *st = flags_state(fx->s, &fx->m->flags[0], env, &err);
    assert_non_null(st);
    return st;
}

/* The last ledger entry's details. */
static json_t *last_details(struct fixture *fx)
{
    struct ledger_list l = {0};
    struct ledger_filter f = {0};
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(ledger_read(fx->s, &f, &l, &err), 0);
    assert_true(l.n > 0);
    assert_string_equal(l.items[l.n - 1].action, "flag.changed");
    json_t *d = json_loads(l.items[l.n - 1].details, 0, NULL);
    ledger_list_release(&l);
    return d;
}

static void test_round_trip(void **state)
{
    struct fixture *fx = *state;
    const struct manifest_flag *f = &fx->m->flags[0];
    struct otap_err err = OTAP_ERR_INIT;
    /* the manifest's: a 20 % split in staging, the rule first */
    expect(fx, "staging", "{\"email\":\"a@databiz.nl\"}", "on", "TARGETING_MATCH");
    expect(fx, "production", "{\"targetingKey\":\"u\"}", "off", "DISABLED");
    json_t *st = state_of(fx, "staging");
    assert_string_equal(json_string_value(json_object_get(st, "source")), "manifest");
    assert_int_equal(json_array_size(json_object_get(st, "weights")), 2);
    json_decref(st);

    /* rules in the store replace the manifest's, in that environment only */
    char *rules = NULL;
    assert_int_equal(flag_rules_parse("tenant in acme, globex -> off", &rules, &err), 0);
    struct flag_change ch = {.enabled = -1, .set_rules = true, .rules = rules};
    long long seq = 0;
    json_t *after = NULL;
    assert_int_equal(flag_change_apply(fx->s, f, "staging", &ch, "t", NULL, &after, &seq, &err), 0);
    free(rules);
    assert_true(seq > 0);
    assert_string_equal(json_string_value(json_object_get(after, "rules_source")), "store");
    /* the split was the manifest's and stays: it is now stored */
    assert_int_equal(json_array_size(json_object_get(after, "weights")), 2);
    json_decref(after);
    expect(fx, "staging", "{\"targetingKey\":\"u\",\"tenant\":\"acme\"}", "off", "TARGETING_MATCH");
    struct flag_result r;
    struct flag_def def;
    json_t *ctx =
        eval(fx, "staging", "{\"targetingKey\":\"u\",\"email\":\"a@databiz.nl\"}", &r, &def);
    assert_string_equal(r.reason, "SPLIT"); /* the manifest's rule no longer applies here */
    json_decref(ctx);
    flag_def_release(&def);
    json_t *d = last_details(fx);
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "before"), "source")),
                        "manifest");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d, "after"), "rules_source")), "store");
    json_decref(d);

    /* back to the manifest's rules */
    ch = (struct flag_change){.enabled = -1, .set_rules = true, .rules = NULL};
    assert_int_equal(flag_change_apply(fx->s, f, "staging", &ch, "t", NULL, NULL, NULL, &err), 0);
    expect(fx, "staging", "{\"email\":\"a@databiz.nl\"}", "on", "TARGETING_MATCH");
    otap_err_release(&err);
}

static void test_promote_and_rollback(void **state)
{
    struct fixture *fx = *state;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *changed = NULL;
    assert_int_equal(flags_after_promote(fx->s, fx->m, "production", 7, "ci", &changed, &err), 0);
    assert_int_equal(json_array_size(changed), 1);
    json_decref(changed);
    expect(fx, "production", "{}", "on", "STATIC");
    json_t *d = last_details(fx);
    assert_string_equal(json_string_value(json_object_get(d, "cause")), "enable_on_promote");
    assert_int_equal(json_integer_value(json_object_get(d, "deployment")), 7);
    json_decref(d);
    /* a second promotion: fully on already, nothing to do */
    assert_int_equal(flags_after_promote(fx->s, fx->m, "production", 8, "ci", &changed, &err), 0);
    assert_int_equal(json_array_size(changed), 0);
    json_decref(changed);
    /* staging is not named: untouched */
    assert_int_equal(flags_after_promote(fx->s, fx->m, "staging", 9, "ci", &changed, &err), 0);
    assert_int_equal(json_array_size(changed), 0);
    json_decref(changed);

    /* the rollback gives it back to the manifest */
    assert_int_equal(flags_after_rollback(fx->s, fx->m, "production", 10, "ci", &changed, &err), 0);
    assert_int_equal(json_array_size(changed), 1);
    json_decref(changed);
    json_t *st = state_of(fx, "production");
    assert_string_equal(json_string_value(json_object_get(st, "source")), "manifest");
    json_decref(st);
    expect(fx, "production", "{}", "off", "DISABLED");
    /* a second rollback has nothing of a promotion to undo */
    assert_int_equal(flags_after_rollback(fx->s, fx->m, "production", 11, "ci", &changed, &err), 0);
    assert_int_equal(json_array_size(changed), 0);
    json_decref(changed);

    /* promoted on, then a person sets a 5 % rollout: the rollback leaves the person's change */
    assert_int_equal(flags_after_promote(fx->s, fx->m, "production", 12, "ci", NULL, &err), 0);
    char *w = NULL;
    assert_int_equal(flag_weights(NULL, 5, &w, &err), 0);
    struct flag_change ch = {.enabled = 1, .set_weights = true, .weights = w};
    assert_int_equal(flag_change_apply(fx->s, &fx->m->flags[0], "production", &ch, "ana", NULL,
                                       NULL, NULL, &err),
                     0);
    free(w);
    assert_int_equal(flags_after_rollback(fx->s, fx->m, "production", 13, "ci", &changed, &err), 0);
    assert_int_equal(json_array_size(changed), 0);
    json_decref(changed);
    st = state_of(fx, "production");
    assert_int_equal(json_array_size(json_object_get(st, "weights")), 2);
    json_decref(st);
    otap_err_release(&err);
}

static void test_rule_parse(void **state)
{
    (void)state;
    struct otap_err err = OTAP_ERR_INIT;
    char *j = NULL;
    assert_int_equal(
        flag_rules_parse(" user.email ends_with @x.nl -> on ;tenant in a, b ,c->off;", &j, &err),
        0);
    assert_string_equal(j, "[{\"attr\":\"user.email\",\"op\":\"ends_with\",\"values\":[\"@x.nl\"],"
                           "\"variant\":\"on\"},{\"attr\":\"tenant\",\"op\":\"in\",\"values\":"
                           "[\"a\",\"b\",\"c\"],\"variant\":\"off\"}]");
    free(j);
    assert_int_equal(flag_rules_parse("", &j, &err), 0);
    assert_string_equal(j, "[]");
    free(j);
    assert_int_equal(flag_rules_parse("app semver_lt 2.0.0-rc.1 -> off", &j, &err), 0);
    free(j);
    static const struct {
        const char *spec, *why;
    } bad[] = {
        {"tenant equals acme", "has no '-> VARIANT'"},
        {"tenant equals acme -> maybe", "gives a variant other than on or off"},
        {"tenant -> on", "is not ATTR OP VALUE -> VARIANT"},
        {"tenant equals -> on", "has no value"},
        {"tenant like acme -> on", "has an unknown operator"},
        {"tenant in , , -> on", "has no value"},
        {"app semver_gte 2 -> on", "is not a SemVer version"},
        {"a equals b -> on; c equals -> on", "--rule 2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = (struct otap_err)OTAP_ERR_INIT;
        j = NULL;
        assert_int_equal(flag_rules_parse(bad[i].spec, &j, &err), OTAP_EUSAGE);
        assert_null(j);
        if (!strstr(err.msg, bad[i].why))
            fail_msg("'%s': %s", bad[i].spec, err.msg);
        otap_err_release(&err);
    }
}

static void test_fully_on(void **state)
{
    (void)state;
    static const struct {
        const char *state;
        bool full;
    } cases[] = {
        {"{\"enabled\":true,\"weights\":null,\"rules\":[]}", true},
        {"{\"enabled\":false,\"weights\":null,\"rules\":[]}", false},
        {"{\"enabled\":true,\"weights\":[[\"on\",100],[\"off\",0]],\"rules\":[]}", true},
        {"{\"enabled\":true,\"weights\":[[\"on\",99],[\"off\",1]],\"rules\":[]}", false},
        {"{\"enabled\":true,\"weights\":null,\"rules\":[{\"variant\":\"on\"}]}", true},
        {"{\"enabled\":true,\"weights\":null,\"rules\":[{\"variant\":\"off\"}]}", false},
        {"{\"enabled\":true,\"weights\":[[1,2]],\"rules\":[]}", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *s = json_loads(cases[i].state, 0, NULL);
        assert_non_null(s);
        if (flags_state_fully_on(s) != cases[i].full)
            fail_msg("%s", cases[i].state);
        json_decref(s);
    }
}

static void test_refs(void **state)
{
    (void)state;
    static const char src[] = "const a = client.getBooleanValue('new-importer', false);\n"
                              "v, _ := client.BooleanValue(ctx, \"go-flag\", false, ec)\n"
                              "if unleash.is_enabled(\"py-flag\"):\n"
                              "  ld.boolVariation(`ld-flag`, user, false)\n"
                              "label = 'mentioned-only'\n"
                              "getBooleanValue(key, false) // computed: not a read\n";
    const char *keys[] = {"new-importer", "mentioned-only", "never"};
    struct flag_refs r;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(flag_refs_scan_buffer(src, strlen(src), "x.js", NULL, keys, 3, &r, &err), 0);
    assert_int_equal(r.n, 4);
    const char *want[] = {"new-importer", "go-flag", "py-flag", "ld-flag"};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(r.items[i].key, want[i]);
        assert_int_equal(r.items[i].line, (int)i + 1);
        assert_string_equal(r.items[i].file, "x.js");
    }
    assert_true(r.used[0]);
    assert_true(r.used[1]);
    assert_false(r.used[2]);
    flag_refs_release(&r);
    /* a project's own wrapper */
    assert_int_equal(flag_refs_scan_buffer("x = isOn(\"k1\")\n", 15, "y", "isOn\\(\"([a-z0-9]+)\"",
                                           keys, 0, &r, &err),
                     0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.items[0].key, "k1");
    flag_refs_release(&r);
    assert_int_equal(flag_refs_scan_buffer("", 0, "y", "isOn(", keys, 0, &r, &err), OTAP_EUSAGE);
    otap_err_release(&err);
    flag_refs_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_promote_and_rollback, setup, teardown),
        cmocka_unit_test(test_rule_parse),
        cmocka_unit_test(test_fully_on),
        cmocka_unit_test(test_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

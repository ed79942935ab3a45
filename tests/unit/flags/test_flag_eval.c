/*
 * Unit tests for src/lib/flags/flag.c and base/murmur3.c:
 *  - MurmurHash3 x86_32's published check values
 *  - flagd-testbed's fractional scenarios (@fractional-v2 examples, its own
 *    flag definitions), bucket for bucket, and its operator-error cases
 *  - Unleash's client specification: gradual rollout by user id, flexible
 *    rollout (default, userId and sessionId stickiness), UTF-8 flag names
 *  - targeting rules, reasons, a disabled flag, a missing targeting key
 * The vectors are in tests/fixtures/flags/ (README.md says where from).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/murmur3.h"
#include "base/strbuf.h"
#include "flags/flag.h"

static char *fixture(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/flags/%s", getenv("SRC") ? getenv("SRC") : ".",
             rel);
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path, 0) < 0)
        fail_msg("cannot read %s", path);
    return strbuf_detach(&sb, NULL);
}

static void test_murmur3(void **state)
{
    (void)state;
    /* the reference implementation's check values */
    assert_int_equal(murmur3_32("", 0, 0), 0);
    assert_int_equal(murmur3_32("", 0, 1), 0x514e28b7);
    assert_int_equal(murmur3_32("", 0, 0xffffffff), 0x81f16f39);
    assert_int_equal(murmur3_32("\xff\xff\xff\xff", 4, 0), 0x76293b50);
    assert_int_equal(murmur3_32("!Ce\x87", 4, 0), 0xf55b516b);
    assert_int_equal(murmur3_32("!Ce", 3, 0), 0x7e4a8634);
    assert_int_equal(murmur3_32("!C", 2, 0), 0xa0f7b07a);
    assert_int_equal(murmur3_32("!", 1, 0), 0x72661cf4);
    assert_int_equal(murmur3_32("Hello, world!", 13, 0), 0xc0363e43);
    assert_int_equal(murmur3_32("The quick brown fox jumps over the lazy dog", 43, 0x9747b28c),
                     0x2fa826cd);
}

/* flagd's flag definition (testkit-flags.json) as otap's model: variants, default, fractional. */
static void from_flagd(struct flag_def *f, const char *key, json_t *def)
{
    memset(f, 0, sizeof(*f));
    f->key = strdup(key);
    f->enabled = !strcmp(json_string_value(json_object_get(def, "state")), "ENABLED");
    f->default_variant = strdup(json_string_value(json_object_get(def, "defaultVariant")));
    json_t *vars = json_object_get(def, "variants");
    f->nvariants = json_object_size(vars);
    f->variant_names = calloc(f->nvariants, sizeof(char *));
    f->variant_values = calloc(f->nvariants, sizeof(json_t *));
    size_t i = 0;
    const char *name;
    json_t *v;
    json_object_foreach(vars, name, v)
    {
        f->variant_names[i] = strdup(name);
        f->variant_values[i++] = json_incref(v);
    }
    json_t *frac = json_object_get(json_object_get(def, "targeting"), "fractional");
    size_t first = 0;
    json_t *by = json_array_get(frac, 0);
    if (json_is_object(by)) {
        first = 1;
        json_t *parts = json_object_get(by, "cat");
        json_t *one = json_array();
        if (!parts) {
            json_array_append(one, by); /* a single {"var": ...} */
            parts = one;
        }
        f->split.nby = json_array_size(parts);
        f->split.by = calloc(f->split.nby, sizeof(*f->split.by));
        size_t k;
        json_t *p;
        json_array_foreach(parts, k, p)
        {
            if (json_is_string(p)) {
                f->split.by[k].kind = FLAG_PART_LITERAL;
                f->split.by[k].text = strdup(json_string_value(p));
            } else {
                const char *var = json_string_value(json_object_get(p, "var"));
                f->split.by[k].kind =
                    !strcmp(var, "$flagd.flagKey") ? FLAG_PART_FLAG_KEY : FLAG_PART_ATTR;
                f->split.by[k].text = strdup(var);
            }
        }
        json_decref(one);
    }
    f->split.n = json_array_size(frac) - first;
    f->split.variants = calloc(f->split.n, sizeof(char *));
    f->split.weights = calloc(f->split.n, sizeof(long long));
    for (size_t k = 0; k < f->split.n; k++) {
        json_t *b = json_array_get(frac, first + k);
        f->split.variants[k] = strdup(json_string_value(json_array_get(b, 0)));
        /* the shorthand ["heads"] weighs 1 */
        f->split.weights[k] =
            json_array_size(b) > 1 ? (long long)json_integer_value(json_array_get(b, 1)) : 1;
    }
}

static const char *eval_value(json_t *flags, const char *key, json_t *ctx, const char **reason)
{
    struct flag_def f;
    from_flagd(&f, key, json_object_get(flags, key));
    struct flag_result r;
    flag_eval(&f, ctx, &r);
    static char value[128];
    snprintf(value, sizeof value, "%s", r.value ? json_string_value(r.value) : "(error)");
    static char why[32];
    snprintf(why, sizeof why, "%s", r.reason);
    if (reason)
        *reason = why;
    flag_def_release(&f);
    return value;
}

static void test_flagd_fractional(void **state)
{
    (void)state;
    char *text = fixture("flagd-testbed/evaluator/flags/testkit-flags.json");
    json_t *doc = json_loads(text, 0, NULL);
    json_t *flags = json_object_get(doc, "flags");
    free(text);
    char *feature = fixture("flagd-testbed/evaluator/gherkin/fractional.feature");
    /* walk the feature: scenario outlines with their flag and context, v2 example rows */
    char flag[128] = "", ctxkind[16] = "";
    bool scenario_v2 = false, pending_v2 = false, pending_other = false, rows = false;
    int checked = 0;
    for (char *line = strtok(feature, "\n"); line; line = strtok(NULL, "\n")) {
        while (*line == ' ')
            line++;
        if (*line == '@') {
            pending_v2 = strstr(line, "@fractional-v2") != NULL;
            pending_other = !pending_v2;
            rows = false;
            continue;
        }
        if (!strncmp(line, "Scenario", 8)) {
            scenario_v2 = pending_v2;
            pending_v2 = pending_other = false;
            rows = false;
            ctxkind[0] = flag[0] = '\0';
            continue;
        }
        const char *k = strstr(line, "flag with key \"");
        if (k)
            sscanf(k + 15, "%127[^\"]", flag);
        if (strstr(line, "inner key \"name\""))
            strcpy(ctxkind, "name");
        else if (strstr(line, "a targeting key with value"))
            strcpy(ctxkind, "tk");
        if (!strncmp(line, "Examples", 8)) {
            rows = (pending_v2 || (scenario_v2 && !pending_other)) && *ctxkind;
            pending_v2 = pending_other = false;
            continue;
        }
        if (rows && *line == '|') {
            char a[64], b[64];
            if (sscanf(line, "| %63s | %63s |", a, b) != 2 || !strcmp(b, "value"))
                continue; /* the header */
            json_t *ctx = !strcmp(ctxkind, "name") ? json_pack("{s:{s:s}}", "user", "name", a)
                                                   : json_pack("{s:s}", "targetingKey", a);
            const char *got = eval_value(flags, flag, ctx, NULL);
            if (strcmp(got, b))
                fail_msg("%s with %s: %s, want %s", flag, a, got, b);
            json_decref(ctx);
            checked++;
        } else if (*line != '|') {
            rows = rows && (strncmp(line, "Given", 5) && strncmp(line, "When", 4));
        }
    }
    free(feature);
    assert_int_equal(checked, 20); /* 5 + 2 + 4 + 4 v2 rows, and the 5 hash edge cases */
    /* the single entry, and the operator-error scenarios */
    json_t *ctx = json_pack("{s:s}", "targetingKey", "some-targeting-key");
    assert_string_equal(eval_value(flags, "fractional-single-entry-flag", ctx, NULL), "single");
    json_decref(ctx);
    const char *reason;
    ctx = json_object();
    assert_string_equal(eval_value(flags, "fractional-null-bucket-key-flag", ctx, &reason),
                        "fallback");
    assert_string_equal(reason, "DEFAULT");
    json_decref(ctx);
    ctx = json_pack("{s:s}", "targetingKey", "any-user");
    assert_string_equal(eval_value(flags, "fractional-zero-weights-flag", ctx, &reason),
                        "fallback");
    assert_string_equal(reason, "DEFAULT");
    assert_string_equal(eval_value(flags, "fractional-negative-weight-flag", ctx, &reason), "two");
    assert_string_equal(reason, "SPLIT");
    json_decref(ctx);
    json_decref(doc);
}

/* Is an Unleash feature on for a context? Only the strategies the vectors use. */
static bool unleash_enabled(json_t *feature, json_t *ctx)
{
    if (!json_is_true(json_object_get(feature, "enabled")))
        return false;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(feature, "strategies"), i, s)
    {
        const char *name = json_string_value(json_object_get(s, "name"));
        json_t *p = json_object_get(s, "parameters");
        const char *user = json_string_value(json_object_get(ctx, "userId"));
        const char *session = json_string_value(json_object_get(ctx, "sessionId"));
        if (!strcmp(name, "default"))
            return true;
        if (!strcmp(name, "gradualRolloutUserId")) {
            int pct = atoi(json_string_value(json_object_get(p, "percentage")));
            if (user &&
                flag_unleash_rollout(json_string_value(json_object_get(p, "groupId")), user, pct))
                return true;
            continue;
        }
        if (!strcmp(name, "flexibleRollout")) {
            int pct = atoi(json_string_value(json_object_get(p, "rollout")));
            const char *stick = json_string_value(json_object_get(p, "stickiness"));
            const char *id = !strcmp(stick, "userId")      ? user
                             : !strcmp(stick, "sessionId") ? session
                             : user                        ? user
                                                           : session;
            if (!id && !strcmp(stick, "default")) {
                /* no id at all: Unleash draws at random; only 0 % and 100 % are certain */
                if (pct == 100)
                    return true;
                if (pct != 0)
                    fail_msg("a random draw the vectors cannot pin");
                continue;
            }
            if (id &&
                flag_unleash_rollout(json_string_value(json_object_get(p, "groupId")), id, pct))
                return true;
            continue;
        }
        fail_msg("strategy '%s' is not one otap implements", name);
    }
    return false;
}

static void test_unleash(void **state)
{
    (void)state;
    const char *files[] = {"03-gradual-rollout-user-id-strategy.json",
                           "10-flexible-rollout-strategy.json", "18-utf8-flag-names.json"};
    int checked = 0;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char rel[256];
        snprintf(rel, sizeof rel, "unleash-client-specification/specifications/%s", files[f]);
        char *text = fixture(rel);
        json_t *doc = json_loads(text, 0, NULL);
        free(text);
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(doc, "tests"), i, t)
        {
            const char *toggle = json_string_value(json_object_get(t, "toggleName"));
            json_t *feature = NULL;
            size_t k;
            json_t *ft;
            json_array_foreach(json_object_get(json_object_get(doc, "state"), "features"), k,
                               ft) if (!strcmp(json_string_value(json_object_get(ft, "name")),
                                               toggle)) feature = ft;
            assert_non_null(feature);
            bool got = unleash_enabled(feature, json_object_get(t, "context"));
            if (got != json_is_true(json_object_get(t, "expectedResult")))
                fail_msg("%s: %s", files[f], json_string_value(json_object_get(t, "description")));
            checked++;
        }
        json_decref(doc);
    }
    assert_int_equal(checked, 18);
}

static void test_rules_and_reasons(void **state)
{
    (void)state;
    struct flag_def f = {0};
    f.key = strdup("new-checkout");
    char *names[] = {"on", "off", "beta"};
    f.nvariants = 3;
    f.variant_names = calloc(3, sizeof(char *));
    f.variant_values = calloc(3, sizeof(json_t *));
    for (int i = 0; i < 3; i++)
        f.variant_names[i] = strdup(names[i]);
    f.variant_values[0] = json_true();
    f.variant_values[1] = json_false();
    f.variant_values[2] = json_string("beta");
    f.default_variant = strdup("off");
    struct flag_result r;
    flag_eval(&f, NULL, &r);
    assert_string_equal(r.reason, "DISABLED");
    assert_true(json_is_false(r.value));
    f.enabled = true;
    flag_eval(&f, NULL, &r);
    assert_string_equal(r.reason, "STATIC");
    f.nrules = 3;
    f.rules = calloc(3, sizeof(*f.rules));
    f.rules[0] = (struct flag_rule){strdup("user.email"), FLAG_OP_ENDS, json_string("@databiz.nl"),
                                    strdup("on")};
    f.rules[1] = (struct flag_rule){strdup("tenant"), FLAG_OP_IN,
                                    json_pack("[s,s]", "acme", "globex"), strdup("beta")};
    f.rules[2] =
        (struct flag_rule){strdup("app"), FLAG_OP_SEMVER_GE, json_string("2.1.0"), strdup("on")};
    json_t *ctx = json_pack("{s:{s:s}}", "user", "email", "ana@databiz.nl");
    flag_eval(&f, ctx, &r);
    assert_string_equal(r.reason, "TARGETING_MATCH");
    assert_string_equal(r.variant, "on");
    json_decref(ctx);
    ctx = json_pack("{s:s}", "tenant", "globex");
    flag_eval(&f, ctx, &r);
    assert_string_equal(r.variant, "beta");
    json_decref(ctx);
    ctx = json_pack("{s:s}", "app", "2.10.0");
    flag_eval(&f, ctx, &r);
    assert_string_equal(r.variant, "on"); /* SemVer, not text: 2.10.0 >= 2.1.0 */
    json_decref(ctx);
    ctx = json_pack("{s:s}", "app", "2.0.9");
    flag_eval(&f, ctx, &r);
    assert_string_equal(r.reason, "DEFAULT");
    assert_string_equal(r.variant, "off");
    /* a split by the default key needs a targeting key */
    f.split.n = 2;
    f.split.variants = calloc(2, sizeof(char *));
    f.split.weights = calloc(2, sizeof(long long));
    f.split.variants[0] = strdup("on");
    f.split.variants[1] = strdup("off");
    f.split.weights[0] = 10;
    f.split.weights[1] = 90;
    flag_eval(&f, ctx, &r);
    assert_string_equal(r.reason, "ERROR");
    assert_string_equal(r.error_code, "TARGETING_KEY_MISSING");
    json_decref(ctx);
    /* 10 % on: about a tenth of 10,000 users, each always the same */
    int on = 0;
    for (int i = 0; i < 10000; i++) {
        char id[32];
        snprintf(id, sizeof id, "user-%d", i);
        ctx = json_pack("{s:s}", "targetingKey", id);
        flag_eval(&f, ctx, &r);
        assert_string_equal(r.reason, "SPLIT");
        on += !strcmp(r.variant, "on");
        struct flag_result again;
        flag_eval(&f, ctx, &again);
        assert_string_equal(again.variant, r.variant);
        json_decref(ctx);
    }
    assert_in_range(on, 900, 1100);
    flag_def_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_murmur3),
        cmocka_unit_test(test_flagd_fractional),
        cmocka_unit_test(test_unleash),
        cmocka_unit_test(test_rules_and_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

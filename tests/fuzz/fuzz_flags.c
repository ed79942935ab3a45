/*
 * libFuzzer target for what otap flags reads from outside: the --weights
 * spec, the --rule spec (the same bytes) and the --context JSON, evaluated
 * against a flag with those rules and a split. Never a crash, a leak or a
 * hang; a split always names a variant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flags/flag_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* weights spec NUL context */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *ctx_text = memchr(text, '\0', size) ? text + strlen(text) + 1 : "{}";
    if (ctx_text > text + size)
        ctx_text = "{}";
    char *weights = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    flag_weights(text, -1, &weights, &err);
    otap_err_release(&err);
    struct manifest_flag mf = {.name = "fuzz", .rollout = 30};
    char *on[] = {"test"};
    mf.on = on;
    mf.non = 1;
    char *rules = NULL;
    flag_rules_parse(text, &rules, &err);
    otap_err_release(&err);
    if (!rules)
        rules = strdup("[{\"attr\":\"user.version\",\"op\":\"semver_gte\",\"values\":[\"1.2.0\"],"
                       "\"variant\":\"on\"}]");
    struct flag_def f;
    flag_from_manifest(&mf, "test", weights ? 1 : -1, weights, rules, &f);
    json_t *ctx = json_loads(ctx_text, JSON_DECODE_ANY, NULL);
    struct flag_result r;
    flag_eval(&f, ctx, &r);
    if (!strcmp(r.reason, "SPLIT") && !r.variant)
        abort();
    json_decref(ctx);
    flag_def_release(&f);
    free(weights);
    free(rules);
    free(text);
    return 0;
}

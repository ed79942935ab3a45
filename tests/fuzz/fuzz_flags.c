/*
 * libFuzzer target for what otap flags reads from outside: the --weights
 * spec and the --context JSON, evaluated against a flag with rules and a
 * split. Never a crash, a leak or a hang; a split always names a variant.
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
    struct flag_def f;
    flag_from_manifest(&mf, "test", weights ? 1 : -1, weights, &f);
    f.nrules = 1;
    f.rules = calloc(1, sizeof(*f.rules));
    f.rules[0] = (struct flag_rule){strdup("user.version"), FLAG_OP_SEMVER_GE, json_string("1.2.0"),
                                    strdup("on")};
    json_t *ctx = json_loads(ctx_text, JSON_DECODE_ANY, NULL);
    struct flag_result r;
    flag_eval(&f, ctx, &r);
    if (!strcmp(r.reason, "SPLIT") && !r.variant)
        abort();
    json_decref(ctx);
    flag_def_release(&f);
    free(weights);
    free(text);
    return 0;
}

/*
 * Manifest flags for the evaluator (flag_manifest.h).
 */
#include "flags/flag_manifest.h"

#include <stdlib.h>
#include <string.h>

#include "base/num.h"
#include "base/xalloc.h"
#include "state/flagstate.h"
#include "base/banned.h"

bool flag_manifest_on(const struct manifest_flag *mf, const char *env)
{
    for (size_t i = 0; i < mf->non; i++)
        if (!strcmp(mf->on[i], env))
            return true;
    return false;
}

/* A variant's value as JSON: the type it was written as; true or false when none was. */
static json_t *value_json(const struct manifest_flag_value *v, bool fallback)
{
    if (!v->text)
        return json_boolean(fallback);
    if (v->type == FLAG_VALUE_BOOL)
        return json_boolean(!strcmp(v->text, "true"));
    if (v->type == FLAG_VALUE_NUMBER) {
        json_t *j = json_loads(v->text, JSON_DECODE_ANY, NULL);
        if (json_is_number(j))
            return j;
        json_decref(j);
    }
    return json_string(v->text);
}

void flag_from_manifest(const struct manifest_flag *mf, const char *env, int enabled,
                        const char *weights, struct flag_def *f)
{
    memset(f, 0, sizeof(*f));
    f->key = xstrdup(mf->name);
    f->nvariants = 2;
    f->variant_names = xcalloc(2, sizeof(char *));
    f->variant_values = xcalloc(2, sizeof(json_t *));
    f->variant_names[0] = xstrdup("on");
    f->variant_values[0] = value_json(&mf->on_value, true);
    f->variant_names[1] = xstrdup("off");
    f->variant_values[1] = value_json(&mf->off_value, false);
    /* targeting rules first, as written */
    if (mf->nrules) {
        f->rules = xcalloc(mf->nrules, sizeof(*f->rules));
        f->nrules = mf->nrules;
        for (size_t i = 0; i < mf->nrules; i++) {
            const struct manifest_flag_rule *r = &mf->rules[i];
            f->rules[i].attr = xstrdup(r->attr);
            f->rules[i].op = (enum flag_op)r->op;
            f->rules[i].variant = xstrdup(r->variant);
            if (r->op == FLAG_OP_IN) {
                f->rules[i].value = json_array();
                for (size_t k = 0; k < r->nvalues; k++)
                    json_array_append_new(f->rules[i].value, json_string(r->values[k]));
            } else {
                f->rules[i].value = json_string(r->values[0]);
            }
        }
    }
    f->enabled = enabled >= 0 ? enabled : flag_manifest_on(mf, env);
    json_t *w = weights ? json_loads(weights, 0, NULL) : NULL;
    if (!w && enabled < 0 && mf->rollout >= 0)
        w = json_pack("[[s,i],[s,i]]", "on", mf->rollout, "off", 100 - mf->rollout);
    if (json_is_array(w) && json_array_size(w)) {
        f->split.n = json_array_size(w);
        f->split.variants = xcalloc(f->split.n, sizeof(char *));
        f->split.weights = xcalloc(f->split.n, sizeof(long long));
        for (size_t i = 0; i < f->split.n; i++) {
            json_t *b = json_array_get(w, i);
            const char *v = json_string_value(json_array_get(b, 0));
            f->split.variants[i] = xstrdup(v ? v : "off");
            f->split.weights[i] = json_integer_value(json_array_get(b, 1));
        }
    }
    json_decref(w);
    /* on with no split: on for everyone; off, or a split that misses: off */
    f->default_variant = xstrdup(f->enabled && !f->split.n ? "on" : "off");
}

int flag_weights(const char *spec, int percent, char **json, struct otap_err *err)
{
    *json = NULL;
    json_t *w = json_array();
    if (!spec) {
        if (percent < 0 || percent > 100) {
            json_decref(w);
            return otap_err_set(err, OTAP_EUSAGE, "--percent must be 0 to 100, not %d", percent);
        }
        json_array_append_new(w, json_pack("[s,i]", "on", percent));
        json_array_append_new(w, json_pack("[s,i]", "off", 100 - percent));
    } else {
        char *copy = xstrdup(spec), *save = NULL;
        long long total = 0;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(item, '=');
            long long n;
            if (!eq || eq == item || num_parse_ll(eq + 1, &n) < 0 || n < 0 || n > 1000000) {
                free(copy);
                json_decref(w);
                return otap_err_set(err, OTAP_EUSAGE,
                                    "--weights '%s': each item is VARIANT=WEIGHT (on=10,off=90)",
                                    spec);
            }
            *eq = '\0';
            if (strcmp(item, "on") && strcmp(item, "off")) {
                json_decref(w);
                int rc =
                    otap_err_set(err, OTAP_EUSAGE,
                                 "--weights: '%s' is no variant of a boolean flag (on, off)", item);
                free(copy);
                return rc;
            }
            total += n;
            json_array_append_new(w, json_pack("[s,I]", item, (json_int_t)n));
        }
        free(copy);
        if (!total) {
            json_decref(w);
            return otap_err_set(err, OTAP_EUSAGE, "--weights '%s' add up to nothing", spec);
        }
    }
    *json = json_dumps(w, JSON_COMPACT);
    json_decref(w);
    return 0;
}

int flags_resolve(struct store *s, const struct manifest_flag *mf, const char *env,
                  struct flag_def *out, json_t **state, struct otap_err *err)
{
    struct flag_state st;
    bool found = false;
    if (s && flagstate_get(s, mf->name, env, &st, &found, err) < 0)
        return err->code ? err->code : OTAP_EEXTERNAL;
    int enabled = found ? st.enabled : -1;
    flag_from_manifest(mf, env, enabled, found ? st.weights : NULL, out);
    if (state) {
        if (found) {
            json_t *w = st.weights ? json_loads(st.weights, 0, NULL) : NULL;
            /* the same shape as the ledger's "after", so before and after compare */
            *state = json_pack("{s:s, s:b, s:o, s:s, s:s, s:s}", "env", env, "enabled", st.enabled,
                               "weights", w ? w : json_null(), "source", "store", "changed_at",
                               st.updated_at, "changed_by", st.updated_by);
        } else {
            bool on = flag_manifest_on(mf, env);
            json_t *w = on && mf->rollout >= 0 ? json_pack("[[s,i],[s,i]]", "on", mf->rollout,
                                                           "off", 100 - mf->rollout)
                                               : json_null();
            *state = json_pack("{s:s, s:b, s:o, s:s}", "env", env, "enabled", on, "weights", w,
                               "source", "manifest");
        }
    }
    if (found)
        flag_state_release(&st);
    return 0;
}

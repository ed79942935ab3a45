/*
 * Manifest flags for the evaluator (flag_manifest.h).
 */
#include "flags/flag_manifest.h"

#include <stdlib.h>
#include <string.h>

#include "base/num.h"
#include "base/semver.h"
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

json_t *flag_manifest_rules(const struct manifest_flag *mf)
{
    json_t *a = json_array();
    for (size_t i = 0; i < mf->nrules; i++) {
        const struct manifest_flag_rule *r = &mf->rules[i];
        json_t *vals = json_array();
        for (size_t k = 0; k < r->nvalues; k++)
            json_array_append_new(vals, json_string(r->values[k]));
        json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:s}", "attr", r->attr, "op",
                                           manifest_flag_rule_ops[r->op], "values", vals, "variant",
                                           r->variant));
    }
    return a;
}

/* Rules as JSON (flag_manifest_rules' shape) for the evaluator; what does not fit is left out. */
static void rules_from_json(json_t *rules, struct flag_def *f)
{
    size_t n = json_array_size(rules);
    if (!n)
        return;
    f->rules = xcalloc(n, sizeof(*f->rules));
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        const char *attr = json_string_value(json_object_get(r, "attr"));
        const char *op = json_string_value(json_object_get(r, "op"));
        const char *variant = json_string_value(json_object_get(r, "variant"));
        json_t *vals = json_object_get(r, "values");
        int o = -1;
        for (int k = 0; op && manifest_flag_rule_ops[k]; k++)
            if (!strcmp(manifest_flag_rule_ops[k], op))
                o = k;
        if (!attr || o < 0 || !variant || !json_array_size(vals))
            continue;
        struct flag_rule *fr = &f->rules[f->nrules++];
        fr->attr = xstrdup(attr);
        fr->op = (enum flag_op)o;
        fr->variant = xstrdup(variant);
        fr->value = o == FLAG_OP_IN ? json_incref(vals) : json_incref(json_array_get(vals, 0));
    }
}

void flag_from_manifest(const struct manifest_flag *mf, const char *env, int enabled,
                        const char *weights, const char *rules, struct flag_def *f)
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
    /* targeting rules first, as written: the stored ones, else the manifest's */
    json_t *rj = rules ? json_loads(rules, 0, NULL) : flag_manifest_rules(mf);
    rules_from_json(rj, f);
    json_decref(rj);
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
    flag_from_manifest(mf, env, enabled, found ? st.weights : NULL, found ? st.rules : NULL, out);
    if (state) {
        if (found) {
            json_t *w = st.weights ? json_loads(st.weights, 0, NULL) : NULL;
            /* the same shape as the ledger's "after", so before and after compare */
            json_t *r = st.rules ? json_loads(st.rules, 0, NULL) : flag_manifest_rules(mf);
            *state =
                json_pack("{s:s, s:b, s:o, s:o, s:s, s:s, s:s, s:s}", "env", env, "enabled",
                          st.enabled, "weights", w ? w : json_null(), "rules", r ? r : json_array(),
                          "rules_source", st.rules ? "store" : "manifest", "source", "store",
                          "changed_at", st.updated_at, "changed_by", st.updated_by);
        } else {
            bool on = flag_manifest_on(mf, env);
            json_t *w = on && mf->rollout >= 0 ? json_pack("[[s,i],[s,i]]", "on", mf->rollout,
                                                           "off", 100 - mf->rollout)
                                               : json_null();
            *state = json_pack("{s:s, s:b, s:o, s:o, s:s, s:s}", "env", env, "enabled", on,
                               "weights", w, "rules", flag_manifest_rules(mf), "rules_source",
                               "manifest", "source", "manifest");
        }
    }
    if (found)
        flag_state_release(&st);
    return 0;
}

/* s without its leading and trailing blanks, in place */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* One rule "ATTR OP VALUE -> VARIANT" as JSON, or NULL with *why set. */
static json_t *rule_parse(char *text, const char **why)
{
    char *arrow = strstr(text, "->");
    if (!arrow) {
        *why = "has no '-> VARIANT'";
        return NULL;
    }
    *arrow = '\0';
    char *variant = trim(arrow + 2);
    if (strcmp(variant, "on") && strcmp(variant, "off")) {
        *why = "gives a variant other than on or off";
        return NULL;
    }
    char *lhs = trim(text);
    char *sp = strpbrk(lhs, " \t");
    if (!sp || sp == lhs) {
        *why = "is not ATTR OP VALUE -> VARIANT";
        return NULL;
    }
    *sp = '\0';
    char *rest = trim(sp + 1);
    char *sp2 = strpbrk(rest, " \t");
    if (!sp2) {
        *why = "has no value";
        return NULL;
    }
    *sp2 = '\0';
    const char *op = rest;
    char *value = trim(sp2 + 1);
    int o = -1;
    for (int k = 0; manifest_flag_rule_ops[k]; k++)
        if (!strcmp(manifest_flag_rule_ops[k], op))
            o = k;
    if (o < 0) {
        *why = "has an unknown operator (equals, in, starts_with, ends_with, semver_gte, "
               "semver_lt)";
        return NULL;
    }
    json_t *vals = json_array();
    if (o == FLAG_OP_IN) {
        char *save = NULL;
        for (char *v = strtok_r(value, ",", &save); v; v = strtok_r(NULL, ",", &save))
            if (*trim(v))
                json_array_append_new(vals, json_string(trim(v)));
    } else if (*value) {
        json_array_append_new(vals, json_string(value));
    }
    if (!json_array_size(vals)) {
        json_decref(vals);
        *why = "has no value";
        return NULL;
    }
    if ((o == FLAG_OP_SEMVER_GE || o == FLAG_OP_SEMVER_LT) &&
        !semver_valid(json_string_value(json_array_get(vals, 0)))) {
        json_decref(vals);
        *why = "compares with a value that is not a SemVer version";
        return NULL;
    }
    if (!json_is_string(json_array_get(vals, 0))) { /* not UTF-8 */
        json_decref(vals);
        *why = "is not UTF-8";
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o, s:s}", "attr", lhs, "op", op, "values", vals, "variant",
                     variant);
}

int flag_rules_parse(const char *spec, char **json, struct otap_err *err)
{
    *json = NULL;
    json_t *rules = json_array();
    char *copy = xstrdup(spec), *save = NULL;
    int n = 0;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        n++;
        if (!*trim(item))
            continue;
        char *shown = xstrdup(trim(item));
        const char *why = NULL;
        json_t *r = rule_parse(item, &why);
        if (!r) {
            int rc =
                otap_err_set(err, OTAP_EUSAGE, "--rule %d '%s' %s; write ATTR OP VALUE -> on|off",
                             n, shown, why);
            free(shown);
            free(copy);
            json_decref(rules);
            return rc;
        }
        free(shown);
        json_array_append_new(rules, r);
    }
    free(copy);
    *json = json_dumps(rules, JSON_COMPACT);
    json_decref(rules);
    return 0;
}

json_t *flags_state(struct store *s, const struct manifest_flag *mf, const char *env,
                    struct otap_err *err)
{
    struct flag_def def;
    json_t *st = NULL;
    if (flags_resolve(s, mf, env, &def, &st, err) < 0)
        return NULL;
    flag_def_release(&def);
    return st;
}

json_t *flags_json(struct store *s, const struct manifest *m, const struct manifest_flag *mf,
                   const char *only_env, struct otap_err *err)
{
    json_t *envs = json_array();
    for (size_t e = 0; e < m->nenvs; e++) {
        if (only_env && strcmp(only_env, m->envs[e].name))
            continue;
        json_t *st = flags_state(s, mf, m->envs[e].name, err);
        if (!st) {
            json_decref(envs);
            return NULL;
        }
        json_array_append_new(envs, st);
    }
    json_t *promote = json_array();
    for (size_t i = 0; i < mf->nenable_on_promote; i++)
        json_array_append_new(promote, json_string(mf->enable_on_promote[i]));
    return json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:o, s:o}", "key", mf->name, "kind",
                     mf->kind ? mf->kind : "release", "owner", mf->owner, "expires", mf->expires,
                     "description", mf->description, "enable_on_promote", promote, "environments",
                     envs);
}

bool flags_state_fully_on(json_t *state)
{
    if (!json_is_true(json_object_get(state, "enabled")))
        return false;
    size_t i;
    json_t *x;
    /* a split counts when a share can go to off: on=100,off=0 is fully on */
    json_array_foreach(json_object_get(state, "weights"), i, x)
    {
        const char *v = json_string_value(json_array_get(x, 0));
        if ((!v || strcmp(v, "on")) && json_integer_value(json_array_get(x, 1)) > 0)
            return false;
    }
    json_array_foreach(json_object_get(state, "rules"), i, x)
    {
        const char *v = json_string_value(json_object_get(x, "variant"));
        if (!v || !strcmp(v, "off"))
            return false;
    }
    return true;
}

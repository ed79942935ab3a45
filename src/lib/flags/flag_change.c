/*
 * Flag changes (flag_change.h).
 */
#include "flags/flag_change.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "flags/flag_manifest.h"
#include "state/flagstate.h"
#include "base/banned.h"

/* JSON text of j, or NULL for null or nothing */
static char *dump_or_null(json_t *j)
{
    return j && !json_is_null(j) ? json_dumps(j, JSON_COMPACT) : NULL;
}

/* The state as flags_resolve shapes it, for what the store would hold. */
static json_t *state_of(const struct manifest_flag *mf, const char *env,
                        const struct flag_state *st)
{
    json_t *w = st->weights ? json_loads(st->weights, 0, NULL) : NULL;
    json_t *r = st->rules ? json_loads(st->rules, 0, NULL) : flag_manifest_rules(mf);
    return json_pack("{s:s, s:b, s:o, s:o, s:s, s:s}", "env", env, "enabled", st->enabled,
                     "weights", w ? w : json_null(), "rules", r ? r : json_array(), "rules_source",
                     st->rules ? "store" : "manifest", "source", "store");
}

/* Writes next (NULL: back to the manifest) over the state before. */
static int write_state(struct store *s, const struct manifest_flag *mf, const char *env,
                       const struct flag_state *next, json_t *before, const char *actor,
                       json_t *extra, json_t **after_out, long long *seq, struct otap_err *err)
{
    json_t *after;
    if (next) {
        after = state_of(mf, env, next);
    } else {
        struct flag_def def;
        after = NULL;
        if (flags_resolve(NULL, mf, env, &def, &after, err) < 0) {
            json_decref(before);
            json_decref(extra);
            return err->code;
        }
        flag_def_release(&def);
    }
    if (after_out)
        *after_out = json_incref(after);
    int rc = flagstate_write(s, mf->name, env, next, before, after, extra, actor, seq, err);
    if (rc < 0 && after_out) {
        json_decref(*after_out);
        *after_out = NULL;
    }
    return rc;
}

int flag_change_apply(struct store *s, const struct manifest_flag *mf, const char *env,
                      const struct flag_change *ch, const char *actor, json_t *extra,
                      json_t **after, long long *seq, struct otap_err *err)
{
    if (after)
        *after = NULL;
    struct flag_def def;
    json_t *before = NULL;
    int rc = flags_resolve(s, mf, env, &def, &before, err);
    if (rc < 0) {
        json_decref(extra);
        return rc;
    }
    flag_def_release(&def);
    bool stored_rules =
        !strcmp(json_string_value(json_object_get(before, "rules_source")), "store");
    struct flag_state next = {
        .enabled =
            ch->enabled >= 0 ? ch->enabled : json_is_true(json_object_get(before, "enabled")),
        .weights = ch->set_weights ? (ch->weights ? xstrdup(ch->weights) : NULL)
                                   : dump_or_null(json_object_get(before, "weights")),
        .rules = ch->set_rules  ? (ch->rules ? xstrdup(ch->rules) : NULL)
                 : stored_rules ? dump_or_null(json_object_get(before, "rules"))
                                : NULL,
    };
    rc = write_state(s, mf, env, &next, before, actor, extra, after, seq, err);
    flag_state_release(&next);
    return rc;
}

static bool names(char *const *list, size_t n, const char *env)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], env))
            return true;
    return false;
}

int flags_after_promote(struct store *s, const struct manifest *m, const char *env,
                        long long deployment, const char *actor, json_t **changed,
                        struct otap_err *err)
{
    if (changed)
        *changed = json_array();
    for (size_t i = 0; i < m->nflags; i++) {
        const struct manifest_flag *mf = &m->flags[i];
        if (!names(mf->enable_on_promote, mf->nenable_on_promote, env))
            continue;
        struct flag_def def;
        json_t *now = NULL;
        int rc = flags_resolve(s, mf, env, &def, &now, err);
        if (rc < 0)
            return rc;
        flag_def_release(&def);
        bool on = flags_state_fully_on(now);
        json_decref(now);
        if (on)
            continue;
        /* on for everyone: the split and any rule giving off are what the promotion lifts */
        struct flag_change ch = {
            .enabled = 1, .set_weights = true, .weights = NULL, .set_rules = true, .rules = "[]"};
        rc = flag_change_apply(s, mf, env, &ch, actor,
                               json_pack("{s:s, s:I}", "cause", "enable_on_promote", "deployment",
                                         (json_int_t)deployment),
                               NULL, NULL, err);
        if (rc < 0)
            return rc;
        if (changed)
            json_array_append_new(*changed, json_string(mf->name));
    }
    return 0;
}

/* The details of the last flag.changed entry for flag in env, or NULL. */
static int last_change(struct store *s, const char *flag, const char *env, json_t **out,
                       long long *seq, struct otap_err *err)
{
    *out = NULL;
    *seq = 0;
    const char *p[] = {env, flag};
    struct store_rows r;
    int rc =
        store_exec(s,
                   "SELECT details, seq FROM otap_ledger WHERE action = 'flag.changed' AND env = "
                   "$1 AND subject = $2 ORDER BY seq DESC LIMIT 1",
                   p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r.nrows && store_cell(&r, 0, 0)) {
        *out = json_loads(store_cell(&r, 0, 0), 0, NULL);
        *seq = strtoll(store_cell(&r, 0, 1), NULL, 10);
    }
    store_rows_release(&r);
    return 0;
}

int flags_after_rollback(struct store *s, const struct manifest *m, const char *env,
                         long long deployment, const char *actor, json_t **changed,
                         struct otap_err *err)
{
    if (changed)
        *changed = json_array();
    for (size_t i = 0; i < m->nflags; i++) {
        const struct manifest_flag *mf = &m->flags[i];
        if (!names(mf->enable_on_promote, mf->nenable_on_promote, env))
            continue;
        json_t *last = NULL;
        long long last_seq;
        int rc = last_change(s, mf->name, env, &last, &last_seq, err);
        if (rc < 0)
            return rc;
        /* only a promotion's own change is undone: a person's later change stands */
        const char *cause = json_string_value(json_object_get(last, "cause"));
        json_t *was = json_object_get(last, "before");
        if (!cause || strcmp(cause, "enable_on_promote") || !json_is_object(was)) {
            json_decref(last);
            continue;
        }
        struct flag_def def;
        json_t *before = NULL;
        rc = flags_resolve(s, mf, env, &def, &before, err);
        if (rc < 0) {
            json_decref(last);
            return rc;
        }
        flag_def_release(&def);
        bool to_manifest = !strcmp(json_string_value(json_object_get(was, "source")), "manifest");
        bool stored_rules =
            !strcmp(json_string_value(json_object_get(was, "rules_source")), "store");
        struct flag_state next = {
            .enabled = json_is_true(json_object_get(was, "enabled")),
            .weights = dump_or_null(json_object_get(was, "weights")),
            .rules = stored_rules ? dump_or_null(json_object_get(was, "rules")) : NULL,
        };
        rc = write_state(s, mf, env, to_manifest ? NULL : &next, before, actor,
                         json_pack("{s:s, s:I, s:I}", "cause", "rollback", "deployment",
                                   (json_int_t)deployment, "undoes", (json_int_t)last_seq),
                         NULL, NULL, err);
        flag_state_release(&next);
        json_decref(last);
        if (rc < 0)
            return rc;
        if (changed)
            json_array_append_new(*changed, json_string(mf->name));
    }
    return 0;
}

/*
 * What delivery needs besides environments: the database section, the
 * SLO, release settings (version file, changelog, tag prefix) and gates.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manifest/manifest_impl.h"
#include "base/num.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* ---- database, slo, release, gates, flags ----------------------------- */

const char *const mf_db_keys[] = {"url",          "migrations",  "schema",
                                  "marker_table", "tool_scheme", NULL};

/* The marker table's name is spliced into SQL: a plain identifier only. */
static bool plain_identifier(const char *s)
{
    if (!*s || strlen(s) > 63)
        return false;
    for (const char *p = s; *p; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || *p == '_';
        if (!alpha && (p == s || !(*p >= '0' && *p <= '9')))
            return false;
    }
    return true;
}

/* a scheme as tools spell them: postgresql+asyncpg, postgres, db:pg */
static bool url_scheme(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z') || strlen(s) > 40)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("+.:-", *p)))
            return false;
    return true;
}

void mf_db_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                 struct manifest_pos kp)
{
    struct manifest_database *db = obj;
    char **slot = idx == 0   ? &db->url_var
                  : idx == 1 ? &db->migrations
                  : idx == 2 ? &db->schema
                  : idx == 3 ? &db->marker_table
                             : &db->tool_scheme;
    (void)k;
    free(*slot);
    *slot = mf_get_str(c, v, kp, mf_db_keys[idx]);
    if (idx == 0)
        db->pos = mf_node_pos(v, kp);
    if (idx == 3 && *slot && !plain_identifier(*slot)) {
        ERR(c, mf_node_pos(v, kp),
            "'marker_table' must be a plain lower-case table name ([a-z_][a-z0-9_]*), "
            "not '%s'",
            *slot);
    }
    if (idx == 4 && *slot && !url_scheme(*slot)) {
        ERR(c, mf_node_pos(v, kp),
            "'tool_scheme' must be a URL scheme such as postgresql+asyncpg, postgres or db:pg, "
            "not '%s'",
            *slot);
    }
}

const char *const mf_slo_keys[] = {"p95_ms", "error_rate", NULL};

void mf_slo_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                  struct manifest_pos kp)
{
    struct manifest *m = obj;
    (void)k;
    if (idx == 0)
        mf_get_double(c, v, kp, "p95_ms", 0.001, 3600000, &m->slo_p95_ms);
    else
        mf_get_double(c, v, kp, "error_rate", 0, 1, &m->slo_error_rate);
}

const char *const mf_release_keys[] = {"version_file",
                                       "changelog",
                                       "tag_prefix",
                                       "commit_types",
                                       "trunk",
                                       "branches",
                                       "max_branch_age",
                                       "bump_minor_pre_major",
                                       "bump_patch_for_minor_pre_major",
                                       "changelog_sections",
                                       NULL};

/* Keep a Changelog 1.1's sections, in its order. */
const char *const manifest_cl_sections[] = {"Added", "Changed",  "Deprecated", "Removed",
                                            "Fixed", "Security", NULL};

static void cl_section_entry(struct mf_ctx *c, const char *type, struct fy_node *v,
                             struct manifest_pos kp)
{
    struct manifest_release *r = &c->m->release;
    const char *section = NULL;
    if (!mf_is_null(v)) {
        section = mf_scalar(c, v, kp, "changelog_sections");
        if (!section)
            return;
        bool known = false;
        for (size_t i = 0; manifest_cl_sections[i] && !known; i++)
            known = !strcmp(manifest_cl_sections[i], section);
        if (!known) {
            ERR(c, mf_node_pos(v, kp),
                "changelog section '%s' for '%s' is none of Keep a Changelog's: Added, Changed, "
                "Deprecated, Removed, Fixed, Security (or null to leave the type out)",
                section, type);
            return;
        }
    }
    struct manifest_cl_section *e = XPUSH(&r->sections, &r->nsections, &r->sections_alloc);
    e->type = xstrdup(type);
    e->section = section ? xstrdup(section) : NULL;
}

void mf_release_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp)
{
    struct manifest_release *r = obj;
    (void)k;
    if (idx == 3) {
        /* the Conventional Commits types otap commit lint accepts */
        xfree_strv(r->commit_types, r->ncommit_types);
        r->commit_types = NULL;
        r->ncommit_types = 0;
        mf_get_str_list(c, v, kp, "commit_types", &r->commit_types, &r->ncommit_types);
        for (size_t i = 0; i < r->ncommit_types; i++)
            for (const char *p = r->commit_types[i]; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
                    ERR(c, mf_node_pos(v, kp), "commit type '%s' may hold only a-z, 0-9 and '-'",
                        r->commit_types[i]);
                    break;
                }
        return;
    }
    if (idx == 5) {
        /* the allowed names of short-lived branches, as globs */
        xfree_strv(r->branches, r->nbranches);
        r->branches = NULL;
        r->nbranches = 0;
        mf_get_str_list(c, v, kp, "branches", &r->branches, &r->nbranches);
        return;
    }
    if (idx == 6) {
        const char *s = mf_scalar(c, v, kp, "max_branch_age");
        long long secs;
        if (s && (num_parse_duration(s, &secs) < 0 || secs <= 0 || secs > 366LL * 24 * 3600))
            ERR(c, mf_node_pos(v, kp),
                "'max_branch_age' must be a duration such as 2d or 36h (at most a year), not '%s'",
                s);
        else if (s)
            r->max_branch_age_s = secs;
        return;
    }
    if (idx == 7 || idx == 8) {
        mf_get_bool(c, v, kp, mf_release_keys[idx],
                    idx == 7 ? &r->bump_minor_pre_major : &r->bump_patch_for_minor_pre_major);
        return;
    }
    if (idx == 9) {
        mf_walk_named(c, v, kp, "'release.changelog_sections'", cl_section_entry);
        return;
    }
    char **slot = idx == 0   ? &r->version_file
                  : idx == 1 ? &r->changelog
                  : idx == 2 ? &r->tag_prefix
                             : &r->trunk;
    if (idx == 2) {
        /* an empty prefix is legitimate: tags without "v" */
        const char *s = mf_scalar(c, v, kp, "tag_prefix");
        if (s) {
            free(*slot);
            *slot = xstrdup(s);
        }
        return;
    }
    char *s = mf_get_str(c, v, kp, mf_release_keys[idx]);
    if (s) {
        free(*slot);
        *slot = s;
    }
}

static const char *const gate_keys[] = {"name", "run", "timeout", "env", "needs", "services", NULL};

static void gate_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                       struct manifest_pos kp)
{
    struct manifest_gate *g = obj;
    (void)k;
    if (idx == 0) {
        free(g->name);
        g->name = mf_get_str(c, v, kp, "name");
        if (g->name && !mf_valid_name(g->name, false))
            ERR(c, mf_node_pos(v, kp), "gate name '%s' may hold only a-z, 0-9, '-' and '_'",
                g->name);
        if (g->name && manifest_gate_is_builtin(g->name))
            ERR(c, mf_node_pos(v, kp),
                "'%s' is a built-in gate (docs/ci.md) and cannot be defined: use it in "
                "'requires' or 'needs' as it is",
                g->name);
        g->pos = mf_node_pos(v, kp);
    } else if (idx == 1) {
        free(g->run);
        g->run = mf_get_str(c, v, kp, "run");
    } else if (idx == 2) {
        mf_get_duration(c, v, kp, "timeout", &g->timeout_s);
    } else if (idx == 3) {
        free(g->env);
        g->env = mf_get_str(c, v, kp, "env");
    } else if (idx == 4) {
        xfree_strv(g->needs, g->nneeds);
        g->needs = NULL;
        g->nneeds = 0;
        mf_get_str_list(c, v, kp, "needs", &g->needs, &g->nneeds);
    } else {
        xfree_strv(g->services, g->nservices);
        g->services = NULL;
        g->nservices = 0;
        mf_get_str_list(c, v, kp, "services", &g->services, &g->nservices);
    }
}

void mf_load_gates(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p)
{
    struct manifest *m = c->m;
    if (mf_is_null(n))
        return;
    if (fy_node_get_type(n) != FYNT_SEQUENCE) {
        ERR(c, mf_node_pos(n, p), "'gates' must be a list of steps (name and run), not %s",
            mf_type_word(n));
        return;
    }
    size_t alloc = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it))) {
        struct manifest_pos ip = mf_node_pos(item, p);
        struct manifest_gate g = {0};
        g.timeout_s = 3600;
        g.pos = ip;
        if (!mf_walk_map(c, item, ip, "a gate", gate_keys, gate_field, &g))
            continue;
        if (!g.name || !g.run) {
            if (g.name)
                ERR(c, ip, "gate '%s' needs a 'run' command", g.name);
            else if (g.run)
                ERR(c, ip, "gate '%s' needs a 'name'", g.run);
            else
                ERR(c, ip, "gate needs a 'name' and a 'run' command");
            free(g.name);
            free(g.run);
            free(g.env);
            xfree_strv(g.needs, g.nneeds);
            xfree_strv(g.services, g.nservices);
            continue;
        }
        for (size_t i = 0; i < m->ngates; i++)
            if (!strcmp(m->gates[i].name, g.name))
                ERR(c, g.pos, "duplicate gate '%s' (first defined at line %d)", g.name,
                    m->gates[i].pos.line);
        *XPUSH(&m->gates, &m->ngates, &alloc) = g;
    }
}

void mf_check_database(struct mf_ctx *c)
{
    struct manifest *m = c->m;
    if (!m->database.url_var)
        return;
    for (size_t i = 0; i < m->nconfig; i++)
        if (!strcmp(m->config[i].name, m->database.url_var))
            return;
    const char **names = xcalloc(m->nconfig + 1, sizeof(*names));
    for (size_t i = 0; i < m->nconfig; i++)
        names[i] = m->config[i].name;
    const char *s = suggest_closest(m->database.url_var, names);
    if (s)
        ERR(c, m->database.pos,
            "database 'url' names '%s', which is not in the config contract (did you mean "
            "'%s'?)",
            m->database.url_var, s);
    else
        ERR(c, m->database.pos, "database 'url' names '%s', which is not in the config contract",
            m->database.url_var);
    free(names);
}

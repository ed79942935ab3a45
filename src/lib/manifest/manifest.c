/*
 * Loading and validating otap.yaml: the entry points, the top level,
 * release and look-ups. Each section has its file (manifest_<section>.c)
 * behind manifest_impl.h.
 *
 * libfyaml builds the document; this file walks it against the schema and
 * fills struct manifest. The walk never stops at the first problem: every
 * mapping is checked key by key (unknown keys get a "did you mean"), every
 * value by type, and the cross-references (gates named by requires,
 * services named by depends_on, environments named by flags and the
 * contract) after the whole file is read. A manifest is handed out only
 * when no error was found, so commands never act on half a manifest.
 */
#include "manifest/manifest.h"

#include <libfyaml.h>
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
#include "manifest/yaml.h"
#include "base/num.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* ---- top level -------------------------------------------------------- */

static const char *const top_keys[] = {
    "project",  "environments", "services", "ports",  "config", "database",
    "slo",      "flags",        "release",  "gates",  "docs",   "secrets",
    "policies", "ci",           "backups",  "slices", NULL};
enum {
    TK_PROJECT,
    TK_ENVIRONMENTS,
    TK_SERVICES,
    TK_PORTS,
    TK_CONFIG,
    TK_DATABASE,
    TK_SLO,
    TK_FLAGS,
    TK_RELEASE,
    TK_GATES,
    TK_DOCS,
    TK_SECRETS,
    TK_POLICIES,
    TK_CI,
    TK_BACKUPS,
    TK_SLICES,
};

struct top_walk {
    struct fy_node *val[TK_SLICES + 1];
    struct manifest_pos pos[TK_SLICES + 1];
};

static const char *const docs_keys[] = {"config", NULL};

static void docs_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                       struct manifest_pos kp)
{
    struct manifest *m = obj;
    (void)k;
    (void)idx;
    free(m->config_docs);
    m->config_docs = mf_get_str(c, v, kp, "config");
}

static void top_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp)
{
    struct top_walk *w = obj;
    (void)c;
    (void)k;
    w->val[idx] = v;
    w->pos[idx] = kp;
}

/* Aliases would let one node stand in many places; otap reads values written out. */
static bool reject_aliases(struct mf_ctx *c, struct fy_node *n, int depth)
{
    if (!n)
        return true;
    if (depth > 64) {
        ERR(c, mf_node_pos(n, (struct manifest_pos){0, 0}),
            "the manifest nests deeper than 64 levels");
        return false;
    }
    bool ok = true;
    switch (fy_node_get_type(n)) {
    case FYNT_SCALAR:
        if (fy_node_get_style(n) == FYNS_ALIAS) {
            ERR(c, mf_node_pos(n, (struct manifest_pos){0, 0}),
                "YAML aliases (*%s) are not supported in otap.yaml; write the value out",
                fy_node_get_scalar0(n) ? fy_node_get_scalar0(n) : "");
            return false;
        }
        return true;
    case FYNT_SEQUENCE: {
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it)))
            ok &= reject_aliases(c, item, depth + 1);
        return ok;
    }
    case FYNT_MAPPING: {
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(n, &it))) {
            ok &= reject_aliases(c, fy_node_pair_key(pair), depth + 1);
            ok &= reject_aliases(c, fy_node_pair_value(pair), depth + 1);
        }
        return ok;
    }
    }
    return ok;
}

static void build(struct mf_ctx *c, struct fy_node *root)
{
    struct manifest *m = c->m;
    struct manifest_pos top = {1, 1};
    struct top_walk w = {0};

    if (!reject_aliases(c, root, 0))
        return;
    if (!root || mf_is_null(root)) {
        ERR(c, top, "the manifest is empty; 'otap init' writes a starter otap.yaml");
        return;
    }
    if (!mf_walk_map(c, root, top, "the manifest", top_keys, top_field, &w))
        return;

    if (!w.val[TK_PROJECT] && !w.pos[TK_PROJECT].line)
        ERR(c, top, "missing 'project' (the project's name)");
    else if ((m->project = mf_get_str(c, w.val[TK_PROJECT], w.pos[TK_PROJECT], "project")) &&
             !mf_valid_name(m->project, false))
        ERR(c, mf_node_pos(w.val[TK_PROJECT], w.pos[TK_PROJECT]),
            "project name '%s' may hold only a-z, 0-9, '-', '_' and '.'", m->project);

    if (w.val[TK_GATES])
        mf_load_gates(c, w.val[TK_GATES], w.pos[TK_GATES]);
    if (w.pos[TK_POLICIES].line)
        mf_load_policies(c, w.val[TK_POLICIES], w.pos[TK_POLICIES]);
    if (w.pos[TK_CI].line && !mf_is_null(w.val[TK_CI]))
        mf_walk_map(c, w.val[TK_CI], w.pos[TK_CI], "'ci'", mf_ci_keys, mf_ci_field, &m->ci);
    if (!w.pos[TK_ENVIRONMENTS].line)
        ERR(c, top, "missing 'environments' (the OTAP stages in promotion order)");
    else
        mf_load_environments(c, w.val[TK_ENVIRONMENTS], w.pos[TK_ENVIRONMENTS]);
    if (w.pos[TK_SERVICES].line)
        mf_walk_named(c, w.val[TK_SERVICES], w.pos[TK_SERVICES], "services", mf_service_entry);
    if (w.pos[TK_PORTS].line && !mf_is_null(w.val[TK_PORTS]))
        mf_walk_map(c, w.val[TK_PORTS], w.pos[TK_PORTS], "'ports'", mf_ports_keys, mf_ports_field,
                    &m->ports);
    if (w.pos[TK_CONFIG].line)
        mf_walk_named(c, w.val[TK_CONFIG], w.pos[TK_CONFIG], "config", mf_var_entry);
    if (w.pos[TK_DATABASE].line) {
        m->database.pos = w.pos[TK_DATABASE];
        mf_walk_map(c, w.val[TK_DATABASE], w.pos[TK_DATABASE], "'database'", mf_db_keys,
                    mf_db_field, &m->database);
        if (!m->database.url_var)
            ERR(c, w.pos[TK_DATABASE],
                "'database' needs 'url': the config variable that holds "
                "the database URL");
    }
    if (w.pos[TK_SLO].line) {
        m->has_slo = true;
        m->slo_p95_ms = 1000;
        m->slo_error_rate = 0.01;
        mf_walk_map(c, w.val[TK_SLO], w.pos[TK_SLO], "'slo'", mf_slo_keys, mf_slo_field, m);
    }
    if (w.pos[TK_FLAGS].line)
        mf_walk_named(c, w.val[TK_FLAGS], w.pos[TK_FLAGS], "flags", mf_flag_entry);
    if (w.pos[TK_SLICES].line && !mf_is_null(w.val[TK_SLICES])) {
        /* the registry inline, or the file that holds it */
        const char *file = yaml_scalar(w.val[TK_SLICES]);
        if (file)
            m->slices.file = xstrdup(file);
        else
            manifest_slices_parse(w.val[TK_SLICES], NULL, &m->slices, c->d);
    }
    if (w.pos[TK_BACKUPS].line && !mf_is_null(w.val[TK_BACKUPS]))
        mf_walk_named(c, w.val[TK_BACKUPS], w.pos[TK_BACKUPS], "backups", mf_backup_entry);
    if (w.pos[TK_RELEASE].line)
        mf_walk_map(c, w.val[TK_RELEASE], w.pos[TK_RELEASE], "'release'", mf_release_keys,
                    mf_release_field, &m->release);
    if (w.pos[TK_DOCS].line)
        mf_walk_map(c, w.val[TK_DOCS], w.pos[TK_DOCS], "'docs'", docs_keys, docs_field, m);

    if (w.pos[TK_SECRETS].line && !mf_is_null(w.val[TK_SECRETS]))
        mf_walk_map(c, w.val[TK_SECRETS], w.pos[TK_SECRETS], "'secrets'", mf_secrets_keys,
                    mf_secrets_field, &m->secrets);

    if (m->database.url_var && !m->database.migrations)
        m->database.migrations = xstrdup("db/migrations");
    if (m->database.url_var && !m->database.marker_table)
        m->database.marker_table = xstrdup("bk_env_marker");
    if (!m->release.version_file)
        m->release.version_file = xstrdup("VERSION");
    if (!m->release.changelog)
        m->release.changelog = xstrdup("CHANGELOG.md");
    if (!m->release.tag_prefix)
        m->release.tag_prefix = xstrdup("v");

    mf_check_environments(c);
    mf_check_gates(c);
    mf_check_services(c);
    mf_check_blocks(c);
    mf_check_config(c);
    mf_check_database(c);
    mf_check_flags(c);
    mf_check_backups(c);
}

/* ---- entry points ----------------------------------------------------- */

static struct manifest *load(const char *data, size_t len, struct diag_list *diags)
{
    struct manifest *m = xcalloc(1, sizeof(*m));
    m->release.bump_minor_pre_major = true; /* as release-please's option of that name */
    m->release.max_branch_age_s = 2 * 24 * 3600;
    struct mf_ctx c = {.d = diags, .m = m};
    struct fy_document *doc = NULL;
    size_t before = diag_count(diags, DIAG_ERROR);
    doc = yaml_load(data, len, "the manifest", diags);
    if (!doc) {
        /* an empty file: say how to get one */
        for (size_t i = 0; i < diags->n; i++)
            if (!strcmp(diags->items[i].msg, "the manifest is empty")) {
                free(diags->items[i].msg);
                diags->items[i].msg =
                    xstrdup("the manifest is empty; 'otap init' writes a starter otap.yaml");
            }
        goto out;
    }
    build(&c, fy_document_root(doc));

out:
    if (doc)
        fy_document_destroy(doc);
    diag_sort(diags);
    if (diag_count(diags, DIAG_ERROR) > before) {
        manifest_free(m);
        return NULL;
    }
    return m;
}

struct manifest *manifest_load_buffer(const char *data, size_t len, const char *name,
                                      struct diag_list *diags)
{
    if (len > MANIFEST_MAX_BYTES) {
        diag_add(diags, DIAG_ERROR, 0, 0, "the manifest is larger than %u bytes",
                 MANIFEST_MAX_BYTES);
        return NULL;
    }
    struct manifest *m = load(data, len, diags);
    if (m) {
        m->path = xstrdup(name);
        m->dir = xstrdup(".");
    }
    return m;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

struct manifest *manifest_load_file(const char *path, struct diag_list *diags)
{
    struct strbuf sb = STRBUF_INIT;
    struct manifest *m = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        diag_add(diags, DIAG_ERROR, 0, 0, "is a directory, not a manifest file");
        goto out;
    }
    if (strbuf_read_file(&sb, path, MANIFEST_MAX_BYTES) < 0) {
        if (errno == EFBIG)
            diag_add(diags, DIAG_ERROR, 0, 0, "the manifest is larger than %u bytes",
                     MANIFEST_MAX_BYTES);
        else
            diag_add(diags, DIAG_ERROR, 0, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    m = load(sb.buf, sb.len, diags);
    if (m) {
        m->path = xstrdup(path);
        m->dir = dir_of(path);
    }
out:
    strbuf_release(&sb);
    return m;
}

char *manifest_find(const char *dir)
{
    char *cur = realpath(dir, NULL);
    if (!cur)
        return NULL;
    for (;;) {
        char *candidate = xasprintf("%s%sotap.yaml", cur, strcmp(cur, "/") ? "/" : "");
        struct stat st;
        if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode)) {
            free(cur);
            return candidate;
        }
        free(candidate);
        if (!strcmp(cur, "/"))
            break;
        char *up = dir_of(cur);
        free(cur);
        cur = up;
    }
    free(cur);
    return NULL;
}

void mf_env_release(struct manifest_env *e)
{
    free(e->name);
    xfree_strv(e->branches, e->nbranches);
    free(e->marker);
    xfree_strv(e->requires, e->nrequires);
    free(e->deploy.driver);
    free(e->deploy.run);
    free(e->deploy.service);
}

void manifest_free(struct manifest *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->dir);
    free(m->project);
    for (size_t i = 0; i < m->nenvs; i++)
        mf_env_release(&m->envs[i]);
    free(m->envs);
    for (size_t i = 0; i < m->nservices; i++) {
        struct manifest_service *s = &m->services[i];
        free(s->name);
        free(s->run);
        free(s->health.liveness);
        free(s->health.health);
        free(s->health.readiness);
        xfree_strv(s->depends_on, s->ndepends_on);
        free(s->depends_cond);
        free(s->ready.what);
        free(s->kind);
        for (size_t u = 0; u < s->nurls; u++) {
            free(s->urls[u].env);
            free(s->urls[u].url);
        }
        free(s->urls);
    }
    free(m->services);
    for (size_t i = 0; i < m->ports.nblocks; i++) {
        free(m->ports.blocks[i].name);
        free(m->ports.blocks[i].within);
        free(m->ports.blocks[i].purpose);
    }
    free(m->ports.blocks);
    for (size_t i = 0; i < m->nconfig; i++) {
        struct contract_var *v = &m->config[i];
        free(v->name);
        xfree_strv(v->required_envs, v->nrequired_envs);
        xfree_strv(v->placeholder_envs, v->nplaceholder_envs);
        free(v->default_value);
        xfree_strv(v->aliases, v->naliases);
        free(v->description);
        free(v->example);
        xfree_strv(v->values, v->nvalues);
        xfree_strv(v->schemes, v->nschemes);
        free(v->one_of);
    }
    free(m->config);
    for (size_t i = 0; i < m->secrets.nrules; i++)
        mf_secret_rule_release(&m->secrets.rules[i]);
    free(m->secrets.rules);
    xfree_strv(m->secrets.disable, m->secrets.ndisable);
    for (size_t i = 0; i < m->secrets.nallow_paths; i++)
        free(m->secrets.allow_paths[i].re);
    free(m->secrets.allow_paths);
    for (size_t i = 0; i < m->secrets.nallow_patterns; i++)
        free(m->secrets.allow_patterns[i].re);
    free(m->secrets.allow_patterns);
    xfree_strv(m->secrets.stopwords, m->secrets.nstopwords);
    free(m->secrets.baseline);
    free(m->database.url_var);
    free(m->database.migrations);
    free(m->database.schema);
    free(m->database.marker_table);
    free(m->database.tool_scheme);
    for (size_t i = 0; i < m->nflags; i++) {
        free(m->flags[i].name);
        free(m->flags[i].owner);
        free(m->flags[i].expires);
        xfree_strv(m->flags[i].on, m->flags[i].non);
        free(m->flags[i].kind);
        free(m->flags[i].on_value.text);
        free(m->flags[i].off_value.text);
        for (size_t r = 0; r < m->flags[i].nrules; r++) {
            free(m->flags[i].rules[r].attr);
            free(m->flags[i].rules[r].variant);
            xfree_strv(m->flags[i].rules[r].values, m->flags[i].rules[r].nvalues);
        }
        free(m->flags[i].rules);
        free(m->flags[i].description);
        xfree_strv(m->flags[i].enable_on_promote, m->flags[i].nenable_on_promote);
    }
    free(m->flags);
    for (size_t i = 0; i < m->nbackups; i++)
        manifest_backup_release(&m->backups[i]);
    manifest_slices_release(&m->slices);
    free(m->backups);
    free(m->release.version_file);
    free(m->release.changelog);
    free(m->release.tag_prefix);
    xfree_strv(m->release.commit_types, m->release.ncommit_types);
    free(m->release.trunk);
    xfree_strv(m->release.branches, m->release.nbranches);
    for (size_t i = 0; i < m->release.nsections; i++) {
        free(m->release.sections[i].type);
        free(m->release.sections[i].section);
    }
    free(m->release.sections);
    free(m->config_docs);
    for (size_t i = 0; i < m->npolicies; i++) {
        free(m->policies[i].name);
        free(m->policies[i].files);
        free(m->policies[i].pattern);
        free(m->policies[i].message);
    }
    free(m->policies);
    free(m->ci.install);
    free(m->ci.build);
    free(m->ci.artifact);
    free(m->ci.runner);
    free(m->ci.postgres);
    for (size_t i = 0; i < m->ngates; i++) {
        free(m->gates[i].env);
        xfree_strv(m->gates[i].needs, m->gates[i].nneeds);
        xfree_strv(m->gates[i].services, m->gates[i].nservices);
        free(m->gates[i].name);
        free(m->gates[i].run);
    }
    free(m->gates);
    free(m);
}

/* ---- lookups ---------------------------------------------------------- */

const struct manifest_env *manifest_env_find(const struct manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nenvs; i++)
        if (!strcmp(m->envs[i].name, name))
            return &m->envs[i];
    int st = mf_stage_from_word(name);
    if (st < 0)
        return NULL;
    for (size_t i = 0; i < m->nenvs; i++)
        if ((int)m->envs[i].stage == st)
            return &m->envs[i];
    return NULL;
}

const struct manifest_env *manifest_env_for_branch(const struct manifest *m, const char *branch,
                                                   const char **matched_glob)
{
    /* an exact name wins over a glob, whatever the order */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m->nenvs; i++) {
            for (size_t b = 0; b < m->envs[i].nbranches; b++) {
                const char *g = m->envs[i].branches[b];
                bool hit = pass == 0 ? !strcmp(g, branch) : fnmatch(g, branch, 0) == 0;
                if (hit) {
                    if (matched_glob)
                        *matched_glob = g;
                    return &m->envs[i];
                }
            }
        }
    }
    return NULL;
}

const struct manifest_service *manifest_service_find(const struct manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nservices; i++)
        if (!strcmp(m->services[i].name, name))
            return &m->services[i];
    return NULL;
}

const char *manifest_trunk(const struct manifest *m)
{
    if (m->release.trunk)
        return m->release.trunk;
    for (size_t i = 0; i < m->nenvs; i++) {
        const struct manifest_env *e = &m->envs[i];
        if (e->stage != STAGE_P)
            continue;
        for (size_t b = 0; b < e->nbranches; b++)
            if (!strpbrk(e->branches[b], "*?["))
                return e->branches[b];
    }
    return "main";
}

const struct manifest_gate *manifest_gate_find(const struct manifest *m, const char *name)
{
    for (size_t i = 0; i < m->ngates; i++)
        if (!strcmp(m->gates[i].name, name))
            return &m->gates[i];
    return NULL;
}

const struct contract_var *manifest_var_find(const struct manifest *m, const char *name)
{
    for (size_t i = 0; m && i < m->nconfig; i++) {
        if (!strcmp(m->config[i].name, name))
            return &m->config[i];
        for (size_t a = 0; a < m->config[i].naliases; a++)
            if (!strcmp(m->config[i].aliases[a], name))
                return &m->config[i];
    }
    return NULL;
}

bool manifest_var_required_in(const struct contract_var *v, const char *env)
{
    if (v->required_always)
        return true;
    for (size_t i = 0; i < v->nrequired_envs; i++)
        if (!strcmp(v->required_envs[i], env))
            return true;
    return false;
}

char *manifest_service_url(const struct manifest *m, const struct manifest_service *s,
                           const struct manifest_env *env)
{
    for (size_t u = 0; u < s->nurls; u++)
        if (manifest_env_find(m, s->urls[u].env) == env)
            return xstrdup(s->urls[u].url);
    /* development and test run on this machine, on the registry's port */
    if (s->port && env->stage <= STAGE_T)
        return xasprintf("http://127.0.0.1:%d", s->port);
    return NULL;
}

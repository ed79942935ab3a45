/*
 * The next release (plan.h).
 */
#include "release/plan.h"

#include <stdlib.h>
#include <string.h>

#include "base/semver.h"
#include "base/xalloc.h"
#include "vcs/vcs_log.h"
#include "base/banned.h"

const char *bump_name(enum bump b)
{
    static const char *const names[] = {"none", "patch", "minor", "major"};
    return names[b];
}

enum bump commit_bump(const struct commit_msg *m)
{
    if (m->kind == COMMIT_REVERT)
        return BUMP_PATCH;
    if (m->kind != COMMIT_CONVENTIONAL || !m->type)
        return BUMP_NONE;
    if (m->breaking)
        return BUMP_MAJOR;
    if (!strcmp(m->type, "feat"))
        return BUMP_MINOR;
    if (!strcmp(m->type, "fix") || !strcmp(m->type, "perf") || !strcmp(m->type, "revert"))
        return BUMP_PATCH;
    return BUMP_NONE;
}

enum bump bump_effective(const char *last, enum bump b, const struct bump_policy *p)
{
    bool pre_major = last && (!strncmp(last, "0.", 2) || !strncmp(last, "v0.", 3));
    if (pre_major && b == BUMP_MAJOR && p->minor_pre_major)
        return BUMP_MINOR;
    if (pre_major && b == BUMP_MINOR && p->patch_for_minor_pre_major)
        return BUMP_PATCH;
    return b;
}

char *version_bump(const char *last, enum bump b, const struct bump_policy *p)
{
    struct semver v;
    if (b == BUMP_NONE || semver_parse(last, &v) < 0)
        return NULL;
    b = bump_effective(last, b, p);
    if (v.pre) {
        /* from a pre-release, its own final version comes first, when the bump fits in it */
        bool fits = b == BUMP_PATCH || (b == BUMP_MINOR && v.patch == 0) ||
                    (b == BUMP_MAJOR && v.minor == 0 && v.patch == 0);
        if (fits)
            b = BUMP_NONE;
    }
    if (b == BUMP_MAJOR)
        v.major++, v.minor = 0, v.patch = 0;
    else if (b == BUMP_MINOR)
        v.minor++, v.patch = 0;
    else if (b == BUMP_PATCH)
        v.patch++;
    semver_release(&v); /* no pre-release, no build metadata */
    return semver_format(&v);
}

char *version_pre(const char *target, const char *id, const struct vcs_tags *tags)
{
    size_t tl = strlen(target), il = strlen(id);
    unsigned long long max = 0;
    for (size_t i = 0; i < tags->n; i++) {
        const char *v = tags->items[i].version;
        if (strncmp(v, target, tl) || v[tl] != '-' || strncmp(v + tl + 1, id, il) ||
            v[tl + 1 + il] != '.')
            continue;
        const char *n = v + tl + 1 + il + 1;
        if (!*n || strspn(n, "0123456789") != strlen(n))
            continue; /* rc.1.hotfix: not one of ours */
        unsigned long long k = strtoull(n, NULL, 10);
        if (k > max)
            max = k;
    }
    return xasprintf("%s-%s.%llu", target, id, max + 1);
}

void release_commit_read(struct release_commit *c, const char *short_id, const char *id,
                         const char *message)
{
    memset(c, 0, sizeof(*c));
    struct commit_msg m;
    commit_msg_parse(message, strlen(message), &m);
    c->short_id = xstrdup(short_id);
    c->id = xstrdup(id);
    c->header = xstrdup(m.header ? m.header : "");
    c->kind = m.kind;
    c->breaking = m.kind == COMMIT_CONVENTIONAL && m.breaking;
    c->bump = commit_bump(&m);
    if (m.kind == COMMIT_CONVENTIONAL) {
        c->type = m.type ? xstrdup(m.type) : NULL;
        c->scope = m.scope ? xstrdup(m.scope) : NULL;
        c->subject = m.subject ? xstrdup(m.subject) : NULL;
        for (size_t i = 0; i < m.nfooters; i++)
            if (!strcmp(m.footers[i].token, "BREAKING CHANGE") ||
                !strcmp(m.footers[i].token, "BREAKING-CHANGE")) {
                c->breaking_note = xstrdup(m.footers[i].value);
                break;
            }
    }
    commit_msg_release(&m);
}

static void commit_free(struct release_commit *c)
{
    free(c->short_id);
    free(c->id);
    free(c->header);
    free(c->type);
    free(c->scope);
    free(c->subject);
    free(c->breaking_note);
}

void release_commits_release(struct release_commits *l)
{
    for (size_t i = 0; i < l->n; i++)
        commit_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static int collect(void *ctx, const char *short_id, const char *id, const char *message)
{
    struct release_commits *l = ctx;
    release_commit_read(XPUSH(&l->items, &l->n, &l->alloc), short_id, id, message);
    return 0;
}

int release_plan_make(const char *dir, const struct manifest_release *cfg, const char *initial,
                      const char *pre, struct release_plan *out, struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    int rc = vcs_release_tags(dir, cfg->tag_prefix, &out->tags, err);
    if (rc == 0)
        rc = vcs_nearest_release(dir, NULL, &out->tags, &out->last, err);
    if (rc == 0)
        rc = vcs_each_commit(dir, out->last ? out->last->commit : NULL, NULL, collect,
                             &out->commits, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < out->commits.n; i++)
        if (out->commits.items[i].bump > out->bump)
            out->bump = out->commits.items[i].bump;
    struct bump_policy p = {cfg->bump_minor_pre_major, cfg->bump_patch_for_minor_pre_major};
    char *target = NULL;
    if (out->last) {
        out->applied = bump_effective(out->last->version, out->bump, &p);
        target = version_bump(out->last->version, out->bump, &p);
    } else if (out->commits.n) {
        /* a first release: the version the project states, else 0.1.0 */
        target = xstrdup(initial ? initial : "0.1.0");
        out->first_from = initial ? cfg->version_file : "the default for a first release";
    }
    if (target && pre) {
        out->next = version_pre(target, pre, &out->tags);
        free(target);
    } else {
        out->next = target;
    }
    return 0;
}

void release_plan_release(struct release_plan *p)
{
    release_commits_release(&p->commits);
    vcs_tags_release(&p->tags);
    free(p->next);
    memset(p, 0, sizeof(*p));
}

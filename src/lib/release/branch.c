/*
 * Branch policy (branch.h).
 */
#include "release/branch.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "vcs/vcs_tags.h"
#include "base/banned.h"

const char *const branch_default_patterns[] = {"feat/*",  "feature/*", "fix/*",
                                               "chore/*", "hotfix/*",  NULL};

static bool is_pattern(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static char *human_age(long long s)
{
    if (s >= 2 * 86400)
        return xasprintf("%lld days %lld hours", s / 86400, s % 86400 / 3600);
    if (s >= 3600)
        return xasprintf("%lld hours %lld minutes", s / 3600, s % 3600 / 60);
    return xasprintf("%lld minutes", s / 60);
}

void branch_verdict_release(struct branch_verdict *v)
{
    free(v->branch);
    free(v->reason);
    free(v->first_commit);
    strvec_release(&v->problems);
    strvec_release(&v->unproven);
    memset(v, 0, sizeof(*v));
}

/* Which kind of branch is this, by its name alone? */
static void classify(const struct manifest *m, struct branch_verdict *v)
{
    const char *trunk = manifest_trunk(m), *b = v->branch;
    if (!strcmp(b, trunk)) {
        v->kind = "trunk";
        v->reason = xasprintf("the trunk");
        return;
    }
    for (size_t i = 0; i < m->nenvs; i++)
        for (size_t k = 0; k < m->envs[i].nbranches; k++) {
            const char *p = m->envs[i].branches[k];
            if (!is_pattern(p) && !strcmp(p, b)) {
                v->kind = "environment";
                v->reason = xasprintf("%s's long-lived branch", m->envs[i].name);
                return;
            }
        }
    const struct manifest_release *r = &m->release;
    size_t n = 0;
    for (; r->nbranches ? n < r->nbranches : branch_default_patterns[n] != NULL; n++) {
        const char *p = r->nbranches ? r->branches[n] : branch_default_patterns[n];
        if (fnmatch(p, b, 0) == 0) {
            v->kind = "short-lived";
            v->pattern = p;
            v->reason = xasprintf("a short-lived branch (%s)", p);
            return;
        }
    }
    for (size_t i = 0; i < m->nenvs; i++)
        for (size_t k = 0; k < m->envs[i].nbranches; k++) {
            const char *p = m->envs[i].branches[k];
            if (is_pattern(p) && fnmatch(p, b, 0) == 0) {
                v->kind = "short-lived";
                v->pattern = p;
                v->reason = xasprintf("a short-lived branch (%s, %s)", p, m->envs[i].name);
                return;
            }
        }
    v->kind = "unknown";
    v->reason = xasprintf("a name no pattern allows");
    struct strbuf all = STRBUF_INIT;
    for (size_t i = 0; r->nbranches ? i < r->nbranches : branch_default_patterns[i] != NULL; i++)
        strbuf_addf(&all, "%s%s", i ? ", " : "",
                    r->nbranches ? r->branches[i] : branch_default_patterns[i]);
    strvec_pushf(&v->problems,
                 "branch '%s' matches none of the allowed names (%s), nor the trunk '%s' or an "
                 "environment's branch",
                 b, all.buf, trunk);
    strbuf_release(&all);
}

int branch_check(const char *dir, const struct manifest *m, const char *branch, long long now,
                 struct branch_verdict *v, struct otap_err *err)
{
    memset(v, 0, sizeof(*v));
    v->max_age_s = m->release.max_branch_age_s;
    int rc = 0;
    if (branch) {
        v->branch = xstrdup(branch);
    } else {
        rc = vcs_current_branch(dir, &v->branch, err);
        /* CI checks out a detached HEAD and names the branch in the environment */
        const char *ci = getenv("GITHUB_HEAD_REF");
        if (!ci || !*ci)
            ci = getenv("GITHUB_REF_NAME");
        if (rc == 0 && !v->branch && ci && *ci)
            v->branch = xstrdup(ci);
        if (rc == 0 && !v->branch)
            rc = otap_err_set(err, OTAP_EUSAGE, "HEAD is detached: name the BRANCH to check");
    }
    if (rc < 0) {
        branch_verdict_release(v);
        return rc;
    }
    char *ref = NULL;
    rc = vcs_branch_ref(dir, v->branch, &ref, err);
    if (rc == 0 && !ref)
        rc = otap_err_set(err, OTAP_ENOTFOUND, "no branch '%s' here (nor origin/%s)", v->branch,
                          v->branch);
    if (rc < 0) {
        free(ref);
        branch_verdict_release(v);
        return rc;
    }
    classify(m, v);
    if (!strcmp(v->kind, "short-lived") || !strcmp(v->kind, "unknown")) {
        const char *trunk = manifest_trunk(m);
        char *tref = NULL;
        rc = vcs_branch_ref(dir, trunk, &tref, err);
        if (rc == 0 && !tref)
            strvec_pushf(&v->unproven,
                         "the trunk '%s' is not in this clone (nor origin/%s): fetch it "
                         "('git fetch origin %s') to measure the branch's life",
                         trunk, trunk, trunk);
        long long first = 0;
        if (rc == 0 && tref)
            rc =
                vcs_branch_first_commit(dir, ref, tref, &v->first_commit, &first, &v->commits, err);
        if (rc == 0 && v->first_commit) {
            v->age_s = now > first ? now - first : 0;
            if (v->age_s > v->max_age_s) {
                char *age = human_age(v->age_s), *max = human_age(v->max_age_s);
                strvec_pushf(&v->problems,
                             "branch '%s' has lived %s (since %.7s), longer than "
                             "release.max_branch_age (%s): merge it into '%s' or split it",
                             v->branch, age, v->first_commit, max, trunk);
                free(age);
                free(max);
            }
        }
        free(tref);
    }
    free(ref);
    if (rc < 0)
        branch_verdict_release(v);
    return rc;
}

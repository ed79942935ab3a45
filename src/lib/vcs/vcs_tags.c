/*
 * Release tags and repository facts (vcs_tags.h), through libgit2.
 */
#include "vcs/vcs_tags.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "base/semver.h"
#include "base/xalloc.h"
#include "vcs/vcs_impl.h"
#include "base/banned.h"

void vcs_tags_release(struct vcs_tags *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].name);
        free(t->items[i].version);
        free(t->items[i].commit);
    }
    free(t->items);
    memset(t, 0, sizeof(*t));
}

struct tag_walk {
    git_repository *repo;
    const char *prefix;
    struct vcs_tags *out;
};

static int on_tag(const char *refname, git_oid *oid, void *payload)
{
    struct tag_walk *w = payload;
    const char *name = refname + strlen("refs/tags/");
    size_t plen = strlen(w->prefix);
    if (strncmp(name, w->prefix, plen) || !semver_valid(name + plen) || (!plen && name[0] == 'v'))
        return 0;
    git_object *obj = NULL, *peeled = NULL;
    if (git_object_lookup(&obj, w->repo, oid, GIT_OBJECT_ANY) < 0)
        return 0; /* a tag to a missing object is no release */
    if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
        git_object_free(obj);
        return 0;
    }
    struct vcs_tag *t = XPUSH(&w->out->items, &w->out->n, &w->out->alloc);
    memset(t, 0, sizeof(*t));
    t->name = xstrdup(name);
    t->version = xstrdup(name + plen);
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, git_object_id(peeled));
    t->commit = xstrdup(hex);
    t->time = (long long)git_commit_time((git_commit *)peeled);
    if (git_object_type(obj) == GIT_OBJECT_TAG) {
        const git_signature *sig = git_tag_tagger((git_tag *)obj);
        t->annotated = true;
        if (sig)
            t->time = (long long)sig->when.time;
    }
    git_object_free(peeled);
    git_object_free(obj);
    return 0;
}

static int by_version(const void *a, const void *b)
{
    const struct vcs_tag *x = a, *y = b;
    int c = semver_cmp(x->version, y->version);
    return c ? c : strcmp(x->name, y->name);
}

int vcs_release_tags(const char *dir, const char *prefix, struct vcs_tags *out,
                     struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    struct tag_walk w = {repo, prefix, out};
    if (git_tag_foreach(repo, on_tag, &w) < 0)
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot list the tags");
    else if (out->n)
        qsort(out->items, out->n, sizeof(*out->items), by_version);
    git_repository_free(repo);
    return rc;
}

const struct vcs_tag *vcs_tags_on(const struct vcs_tags *t, const char *commit, bool final_only)
{
    const struct vcs_tag *best = NULL;
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->items[i].commit, commit) &&
            (!final_only || !strchr(t->items[i].version, '-')))
            best = &t->items[i]; /* the highest, as the list is sorted */
    return best;
}

const struct vcs_tag *vcs_tags_find(const struct vcs_tags *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->items[i].name, name))
            return &t->items[i];
    return NULL;
}

int vcs_nearest_release(const char *dir, const char *rev, const struct vcs_tags *tags,
                        const struct vcs_tag **tag, struct otap_err *err)
{
    *tag = NULL;
    bool any = false;
    for (size_t i = 0; i < tags->n && !any; i++)
        any = !strchr(tags->items[i].version, '-');
    if (!any)
        return 0; /* no final release: no need to walk the history at all */
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    git_revwalk *walk = NULL;
    git_object *tip = NULL;
    if (git_revparse_single(&tip, repo, rev ? rev : "HEAD") < 0) {
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' names no commit", rev ? rev : "HEAD");
        goto out;
    }
    /* time order is incremental: the walk stops at the first tagged commit */
    if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_sorting(walk, GIT_SORT_TIME) < 0 ||
        git_revwalk_push(walk, git_object_id(tip)) < 0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot walk the history");
        goto out;
    }
    git_oid oid;
    while (!*tag && git_revwalk_next(&oid, walk) == 0) {
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof hex, &oid);
        *tag = vcs_tags_on(tags, hex, true);
    }
out:
    git_object_free(tip);
    git_revwalk_free(walk);
    git_repository_free(repo);
    return rc;
}

int vcs_tag_read(const char *dir, const char *name, char **message, char **commit,
                 struct otap_err *err)
{
    *message = *commit = NULL;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    char *ref = xasprintf("refs/tags/%s", name);
    git_object *obj = NULL, *peeled = NULL;
    git_reference *r = NULL;
    if (git_reference_lookup(&r, repo, ref) < 0) {
        rc = otap_err_set(err, OTAP_ENOTFOUND, "no tag '%s'", name);
    } else if (git_reference_peel(&obj, r, GIT_OBJECT_ANY) < 0 ||
               git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read the tag");
    } else {
        git_object *target = NULL;
        /* the tag object itself, when it is annotated */
        if (git_reference_peel(&target, r, GIT_OBJECT_TAG) == 0) {
            const char *msg = git_tag_message((git_tag *)target);
            *message = xstrdup(msg ? msg : "");
            git_object_free(target);
        }
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof hex, git_object_id(peeled));
        *commit = xstrdup(hex);
    }
    git_object_free(peeled);
    git_object_free(obj);
    git_reference_free(r);
    free(ref);
    git_repository_free(repo);
    return rc;
}

int vcs_resolve(const char *dir, const char *rev, char **commit, struct otap_err *err)
{
    *commit = NULL;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    git_object *obj = NULL, *peeled = NULL;
    if (git_revparse_single(&obj, repo, rev) < 0 ||
        git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' names no commit", rev);
    } else {
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof hex, git_object_id(peeled));
        *commit = xstrdup(hex);
    }
    git_object_free(peeled);
    git_object_free(obj);
    git_repository_free(repo);
    return rc;
}

int vcs_current_branch(const char *dir, char **branch, struct otap_err *err)
{
    *branch = NULL;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    git_reference *head = NULL;
    /* an unborn branch (no commit yet) still has a name */
    if (git_reference_lookup(&head, repo, "HEAD") < 0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read HEAD");
    } else if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
        const char *t = git_reference_symbolic_target(head);
        if (t && !strncmp(t, "refs/heads/", 11))
            *branch = xstrdup(t + 11);
    }
    git_reference_free(head);
    git_repository_free(repo);
    return rc;
}

int vcs_dirty_files(const char *dir, size_t max, char ***files, size_t *n, struct otap_err *err)
{
    *files = NULL;
    *n = 0;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    git_status_options o;
    git_status_options_init(&o, GIT_STATUS_OPTIONS_VERSION);
    o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    o.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES; /* untracked files are not part of a commit */
    git_status_list *list = NULL;
    if (git_status_list_new(&list, repo, &o) < 0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read the working tree's status");
    } else {
        size_t cnt = git_status_list_entrycount(list), alloc = 0;
        for (size_t i = 0; i < cnt && *n < max; i++) {
            const git_status_entry *e = git_status_byindex(list, i);
            if (e->status == GIT_STATUS_CURRENT || (e->status & GIT_STATUS_IGNORED))
                continue;
            const git_diff_delta *d = e->head_to_index ? e->head_to_index : e->index_to_workdir;
            const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
            *XPUSH(files, n, &alloc) = xstrdup(path);
        }
    }
    git_status_list_free(list);
    git_repository_free(repo);
    return rc;
}

/* git@host:owner/repo.git, ssh://git@host/owner/repo, https://host/owner/repo.git */
static char *web_url(const char *u)
{
    const char *host, *path;
    size_t hlen;
    if (!strncmp(u, "https://", 8) || !strncmp(u, "http://", 7) || !strncmp(u, "ssh://", 6)) {
        host = strstr(u, "://") + 3;
        const char *at = strchr(host, '@'), *slash = strchr(host, '/');
        if (at && slash && at < slash)
            host = at + 1; /* credentials in a URL are never repeated */
        if (!slash)
            return NULL;
        hlen = strcspn(host, ":/");
        path = slash + 1;
    } else {
        const char *at = strchr(u, '@'), *colon = strchr(u, ':');
        if (!colon || strchr(u, '/') < colon)
            return NULL; /* a local path */
        host = at && at < colon ? at + 1 : u;
        hlen = (size_t)(colon - host);
        path = colon + 1;
    }
    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/')
        plen--;
    if (plen > 4 && !strncmp(path + plen - 4, ".git", 4))
        plen -= 4;
    if (!hlen || !plen)
        return NULL;
    for (size_t i = 0; i < hlen; i++)
        if (host[i] == ' ' || host[i] == '"')
            return NULL;
    return xasprintf("https://%.*s/%.*s", (int)hlen, host, (int)plen, path);
}

int vcs_remote_web_url(const char *dir, char **url, struct otap_err *err)
{
    *url = NULL;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    /* the config value itself: git_remote_lookup() leaks libgit2 1.5's regex match data */
    git_config *cfg = NULL;
    const char *u = NULL;
    if (git_repository_config_snapshot(&cfg, repo) == 0 &&
        git_config_get_string(&u, cfg, "remote.origin.url") == 0 && u)
        *url = web_url(u);
    git_config_free(cfg);
    git_repository_free(repo);
    return 0;
}

int vcs_branch_ref(const char *dir, const char *name, char **ref, struct otap_err *err)
{
    *ref = NULL;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    const char *forms[] = {"refs/heads/", "refs/remotes/origin/"};
    for (size_t i = 0; i < 2 && !*ref; i++) {
        char *r = xasprintf("%s%s", forms[i], name);
        git_oid oid;
        if (git_reference_name_to_id(&oid, repo, r) == 0)
            *ref = r;
        else
            free(r);
    }
    git_repository_free(repo);
    return 0;
}

int vcs_branch_first_commit(const char *dir, const char *branch, const char *base, char **commit,
                            long long *time, size_t *count, struct otap_err *err)
{
    *commit = NULL;
    *time = 0;
    *count = 0;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    git_revwalk *walk = NULL;
    git_oid tip, hide;
    if (git_reference_name_to_id(&tip, repo, branch) < 0) {
        rc = otap_err_set(err, OTAP_ENOTFOUND, "no branch '%s'", branch);
        goto out;
    }
    if (git_reference_name_to_id(&hide, repo, base) < 0) {
        rc = otap_err_set(err, OTAP_ENOTFOUND, "no branch '%s'", base);
        goto out;
    }
    if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_sorting(walk, GIT_SORT_TIME) < 0 ||
        git_revwalk_push(walk, &tip) < 0 || git_revwalk_hide(walk, &hide) < 0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot walk the history");
        goto out;
    }
    git_oid oid;
    while (git_revwalk_next(&oid, walk) == 0) {
        git_commit *c = NULL;
        if (git_commit_lookup(&c, repo, &oid) < 0) {
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read a commit");
            break;
        }
        /* the branch's life: its oldest own commit, by when it was written
         * (the author's time: a rebase does not reset the clock) */
        const git_signature *a = git_commit_author(c);
        long long t = a ? (long long)a->when.time : (long long)git_commit_time(c);
        if (!*commit || t <= *time) {
            char hex[GIT_OID_HEXSZ + 1];
            git_oid_tostr(hex, sizeof hex, &oid);
            free(*commit);
            *commit = xstrdup(hex);
            *time = t;
        }
        (*count)++;
        git_commit_free(c);
    }
out:
    git_revwalk_free(walk);
    git_repository_free(repo);
    return rc;
}

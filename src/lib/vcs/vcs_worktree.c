/*
 * Changes since a base, files at a revision, worktrees (vcs_worktree.h).
 */
#include "vcs/vcs_worktree.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/xalloc.h"
#include "vcs/vcs_impl.h"
#include "base/banned.h"

struct changes {
    struct vcs_change *items;
    size_t n, alloc;
};

static int on_delta(const git_diff_delta *d, float progress, void *payload)
{
    (void)progress;
    struct changes *c = payload;
    char st = d->status == GIT_DELTA_DELETED                                     ? 'D'
              : d->status == GIT_DELTA_ADDED || d->status == GIT_DELTA_UNTRACKED ? 'A'
              : d->status == GIT_DELTA_TYPECHANGE                                ? 'T'
                                                                                 : 'M';
    const char *path = d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path;
    struct vcs_change *x = XPUSH(&c->items, &c->n, &c->alloc);
    x->path = xstrdup(path);
    x->status = st;
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct vcs_change *)a)->path, ((const struct vcs_change *)b)->path);
}

int vcs_changes(const char *dir, const char *base, char **merge_base, struct vcs_change **out,
                size_t *n, struct otap_err *err)
{
    *out = NULL;
    *n = 0;
    *merge_base = NULL;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    git_object *b = NULL;
    git_oid head, mb;
    git_commit *commit = NULL;
    git_tree *tree = NULL;
    git_diff *diff = NULL;
    struct changes c = {0};
    if (git_revparse_single(&b, repo, base) < 0)
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' names no commit", base);
    else if (git_reference_name_to_id(&head, repo, "HEAD") < 0)
        rc = otap_err_set(err, OTAP_EUSAGE, "HEAD names no commit yet");
    else if (git_merge_base(&mb, repo, &head, git_object_id(b)) < 0)
        rc = otap_err_set(err, OTAP_EUSAGE, "HEAD and '%s' have no common history", base);
    else if (git_commit_lookup(&commit, repo, &mb) < 0 || git_commit_tree(&tree, commit) < 0)
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read the merge base");
    if (rc == 0) {
        git_diff_options o;
        git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
        /* names only: no content is loaded to tell text from binary */
        o.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS |
                  GIT_DIFF_SKIP_BINARY_CHECK;
        if (git_diff_tree_to_workdir_with_index(&diff, repo, tree, &o) < 0 ||
            git_diff_foreach(diff, on_delta, NULL, NULL, NULL, &c) < 0)
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot compare with the working tree");
    }
    if (rc == 0) {
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof hex, &mb);
        *merge_base = xstrdup(hex);
        if (c.n)
            qsort(c.items, c.n, sizeof(*c.items), by_path);
        *out = c.items;
        *n = c.n;
    } else {
        vcs_changes_release(c.items, c.n);
    }
    git_diff_free(diff);
    git_tree_free(tree);
    git_commit_free(commit);
    git_object_free(b);
    git_repository_free(repo);
    return rc;
}

void vcs_changes_release(struct vcs_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].path);
    free(c);
}

int vcs_root(const char *dir, char **root, struct otap_err *err)
{
    *root = NULL;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    const char *wd = git_repository_workdir(repo);
    if (!wd)
        rc = otap_err_set(err, OTAP_EUSAGE, "the repository has no working tree");
    else {
        *root = xstrdup(wd);
        size_t n = strlen(*root);
        if (n > 1 && (*root)[n - 1] == '/')
            (*root)[n - 1] = '\0';
    }
    git_repository_free(repo);
    return rc;
}

int vcs_blob_at(const char *dir, const char *rev, const char *path, char **data, size_t *len,
                bool *found, struct otap_err *err)
{
    *data = NULL;
    *len = 0;
    *found = false;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    git_object *obj = NULL;
    git_tree *tree = NULL;
    git_tree_entry *entry = NULL;
    git_blob *blob = NULL;
    if (git_revparse_single(&obj, repo, rev) < 0 ||
        git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE) < 0) {
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' names no commit", rev);
    } else if (git_tree_entry_bypath(&entry, tree, path) == 0 &&
               git_tree_entry_type(entry) == GIT_OBJECT_BLOB) {
        if (git_blob_lookup(&blob, repo, git_tree_entry_id(entry)) < 0) {
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read a file");
        } else {
            *len = (size_t)git_blob_rawsize(blob);
            *data = xmalloc(*len + 1);
            memcpy(*data, git_blob_rawcontent(blob), *len);
            (*data)[*len] = '\0';
            *found = true;
        }
    }
    git_blob_free(blob);
    git_tree_entry_free(entry);
    git_tree_free(tree);
    git_object_free(obj);
    git_repository_free(repo);
    return rc;
}

/* ---- worktrees
 * ----------------------------------------------------------------------------------- */

static char *slice_of(git_repository *repo, const char *name)
{
    git_config *cfg = NULL;
    git_buf buf = {0};
    char *key = xasprintf("otap.worktree.%s.slice", name), *out = NULL;
    if (git_repository_config(&cfg, repo) == 0 && git_config_get_string_buf(&buf, cfg, key) == 0)
        out = xstrdup(buf.ptr);
    git_buf_dispose(&buf);
    git_config_free(cfg);
    free(key);
    return out;
}

/* The branch a repository (a worktree's) has checked out, or NULL. */
static char *branch_of(git_repository *repo)
{
    git_reference *head = NULL;
    char *out = NULL;
    if (git_repository_head(&head, repo) == 0 && git_reference_is_branch(head))
        out = xstrdup(git_reference_shorthand(head));
    else if (git_repository_head_unborn(repo) == 1) {
        git_reference *sym = NULL;
        if (git_reference_lookup(&sym, repo, "HEAD") == 0 && git_reference_symbolic_target(sym))
            out = xstrdup(git_reference_symbolic_target(sym) + strlen("refs/heads/"));
        git_reference_free(sym);
    }
    git_reference_free(head);
    return out;
}

int vcs_worktrees(const char *dir, struct vcs_worktree **out, size_t *n, struct otap_err *err)
{
    *out = NULL;
    *n = 0;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    /* from a worktree, the list is the main repository's */
    git_repository *main = repo;
    if (git_repository_is_worktree(repo)) {
        const char *common = git_repository_commondir(repo);
        if (git_repository_open(&main, common) < 0)
            main = repo;
    }
    git_strarray names = {0};
    if (git_worktree_list(&names, main) < 0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot list the worktrees");
        goto out;
    }
    size_t alloc = 0;
    struct vcs_worktree *w = XPUSH(out, n, &alloc);
    memset(w, 0, sizeof(*w));
    w->main = true;
    w->name = xstrdup("(main)");
    const char *wd = git_repository_workdir(main);
    w->path = xstrdup(wd ? wd : git_repository_path(main));
    size_t pl = strlen(w->path);
    if (pl > 1 && w->path[pl - 1] == '/')
        w->path[pl - 1] = '\0';
    w->branch = branch_of(main);
    for (size_t i = 0; i < names.count; i++) {
        git_worktree *wt = NULL;
        git_repository *wr = NULL;
        if (git_worktree_lookup(&wt, main, names.strings[i]) < 0)
            continue;
        w = XPUSH(out, n, &alloc);
        memset(w, 0, sizeof(*w));
        w->name = xstrdup(names.strings[i]);
        w->path = xstrdup(git_worktree_path(wt));
        if (git_repository_open_from_worktree(&wr, wt) == 0)
            w->branch = branch_of(wr);
        w->slice = slice_of(main, w->name);
        git_repository_free(wr);
        git_worktree_free(wt);
    }
out:
    git_strarray_dispose(&names);
    if (main != repo)
        git_repository_free(main);
    git_repository_free(repo);
    if (rc < 0) {
        vcs_worktrees_release(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void vcs_worktrees_release(struct vcs_worktree *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(w[i].name);
        free(w[i].path);
        free(w[i].branch);
        free(w[i].slice);
    }
    free(w);
}

int vcs_worktree_add(const char *dir, const char *name, const char *path, const char *branch,
                     const char *slice, struct otap_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return otap_err_set(err, OTAP_EREFUSED, "%s exists already", path);
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    git_reference *ref = NULL, *head = NULL;
    git_commit *commit = NULL;
    git_worktree *wt = NULL;
    git_config *cfg = NULL;
    char *full = xasprintf("refs/heads/%s", branch);
    if (git_reference_lookup(&ref, repo, full) == 0) {
        /* where is it checked out? the main tree, or one of the worktrees */
        struct vcs_worktree *ws = NULL;
        size_t nw = 0;
        struct otap_err e2 = OTAP_ERR_INIT;
        if (vcs_worktrees(dir, &ws, &nw, &e2) == 0)
            for (size_t i = 0; i < nw && rc == 0; i++)
                if (ws[i].branch && !strcmp(ws[i].branch, branch))
                    rc = otap_err_set(err, OTAP_EREFUSED, "branch %s is checked out in %s already",
                                      branch, ws[i].path);
        otap_err_release(&e2);
        vcs_worktrees_release(ws, nw);
    } else if (git_repository_head(&head, repo) < 0 ||
               git_reference_peel((git_object **)&commit, head, GIT_OBJECT_COMMIT) < 0 ||
               git_branch_create(&ref, repo, branch, commit, 0) < 0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot make the branch");
    }
    if (rc == 0) {
        git_worktree_add_options o;
        git_worktree_add_options_init(&o, GIT_WORKTREE_ADD_OPTIONS_VERSION);
        o.ref = ref;
        if (git_worktree_add(&wt, repo, name, path, &o) < 0)
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot add the worktree");
    }
    if (rc == 0 && slice) {
        char *key = xasprintf("otap.worktree.%s.slice", name);
        if (git_repository_config(&cfg, repo) < 0 || git_config_set_string(cfg, key, slice) < 0)
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot remember the worktree's slice");
        free(key);
    }
    git_config_free(cfg);
    git_worktree_free(wt);
    git_commit_free(commit);
    git_reference_free(head);
    git_reference_free(ref);
    git_repository_free(repo);
    free(full);
    return rc;
}

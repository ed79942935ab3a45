/*
 * Tracked and changed files (vcs_files.h), from the index and a diff of
 * the revision's tree against the working tree, as git diff --name-only REV.
 */
#include "vcs/vcs_files.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "vcs/vcs_impl.h"
#include "base/banned.h"

struct list {
    char **items;
    size_t n, alloc;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int on_delta(const git_diff_delta *d, float progress, void *payload)
{
    (void)progress;
    struct list *l = payload;
    if (d->status != GIT_DELTA_DELETED && d->new_file.path)
        *XPUSH(&l->items, &l->n, &l->alloc) = xstrdup(d->new_file.path);
    return 0;
}

int vcs_files(const char *dir, const char *since, char ***files, size_t *n, struct otap_err *err)
{
    *files = NULL;
    *n = 0;
    git_repository *repo = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        return rc;
    struct list l = {0};
    git_index *index = NULL;
    git_object *obj = NULL;
    git_tree *tree = NULL;
    git_diff *diff = NULL;
    if (!since) {
        if (git_repository_index(&index, repo) < 0) {
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read the index");
        } else {
            size_t cnt = git_index_entrycount(index);
            for (size_t i = 0; i < cnt; i++)
                *XPUSH(&l.items, &l.n, &l.alloc) = xstrdup(git_index_get_byindex(index, i)->path);
        }
    } else if (git_revparse_single(&obj, repo, since) < 0 ||
               git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE) < 0) {
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' names no commit", since);
    } else if (git_diff_tree_to_workdir_with_index(&diff, repo, tree, NULL) < 0 ||
               git_diff_foreach(diff, on_delta, NULL, NULL, NULL, &l) < 0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot compare with the working tree");
    }
    git_diff_free(diff);
    git_tree_free(tree);
    git_object_free(obj);
    git_index_free(index);
    git_repository_free(repo);
    if (rc < 0) {
        xfree_strv(l.items, l.n);
        return rc;
    }
    if (l.n)
        qsort(l.items, l.n, sizeof(*l.items), by_name);
    *files = l.items;
    *n = l.n;
    return 0;
}

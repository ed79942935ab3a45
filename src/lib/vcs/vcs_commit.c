/*
 * One commit and one annotated tag, whole or not at all (vcs_commit.h).
 *
 * Order matters: the files are written first (so the index entries carry
 * their real stat data), then the commit and tag objects (harmless while
 * nothing points at them), then the tag ref (refused if it exists), then
 * the branch moves only if it still points where it did (compare and
 * swap), and the index is written last. Each step that fails unwinds the
 * ones before it.
 */
#include "vcs/vcs_commit.h"

#include <errno.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "vcs/vcs_impl.h"
#include "base/banned.h"

int vcs_identity(const char *dir, char **who, struct otap_err *err)
{
    *who = NULL;
    git_repository *repo = NULL;
    if (vcs_open(dir, &repo, err) < 0)
        return OTAP_EUSAGE;
    git_signature *sig = NULL;
    int rc = 0;
    if (git_signature_default(&sig, repo) < 0)
        rc = otap_err_set(err, OTAP_EREFUSED,
                          "git has no identity to sign the release commit with: set user.name "
                          "and user.email ('git config user.email you@example.com')");
    else
        *who = xasprintf("%s <%s>", sig->name, sig->email);
    git_signature_free(sig);
    git_repository_free(repo);
    return rc;
}

void vcs_commit_forget(struct vcs_undo *u)
{
    for (size_t i = 0; i < u->nfiles; i++) {
        free(u->paths[i]);
        free(u->old[i]);
    }
    free(u->paths);
    free(u->old);
    free(u->old_len);
    free(u->workdir);
    free(u->branch_ref);
    free(u->tag_ref);
    memset(u, 0, sizeof(*u));
}

/* Puts the files back; the first failure is reported, the rest still tried. */
static int restore_files(struct vcs_undo *u, struct otap_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < u->nfiles; i++) {
        char *full = xasprintf("%s%s", u->workdir, u->paths[i]);
        int r = 0;
        if (u->old[i])
            r = fileio_write(full, u->old[i], u->old_len[i], false, 0644, err);
        else if (unlink(full) < 0 && errno != ENOENT)
            r = otap_err_set(err, OTAP_EEXTERNAL, "cannot remove '%s': %s", u->paths[i],
                             strerror(errno));
        if (r < 0 && !rc)
            rc = r;
        free(full);
    }
    return rc;
}

static int unwind(git_repository *repo, struct vcs_undo *u, bool moved, struct otap_err *err)
{
    int rc = 0;
    git_reference *ref = NULL;
    if (moved) {
        git_oid old, cur;
        git_oid_fromstr(&old, u->old_commit);
        git_oid_fromstr(&cur, u->new_commit);
        if (git_reference_create_matching(&ref, repo, u->branch_ref, &old, 1, &cur,
                                          "otap release: undone") < 0)
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot move the branch back");
        git_reference_free(ref);
        ref = NULL;
    }
    if (u->tag_ref && git_reference_lookup(&ref, repo, u->tag_ref) == 0) {
        if (git_reference_delete(ref) < 0 && !rc)
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot remove the tag");
        git_reference_free(ref);
    }
    int r = restore_files(u, err);
    if (r < 0 && !rc)
        rc = r;
    /* the index as HEAD has it: the tree was clean before, so this is what it was */
    git_index *index = NULL;
    git_object *head = NULL;
    git_tree *tree = NULL;
    if (git_repository_index(&index, repo) < 0 || git_revparse_single(&head, repo, "HEAD") < 0 ||
        git_commit_tree(&tree, (git_commit *)head) < 0 || git_index_read_tree(index, tree) < 0 ||
        git_index_write(index) < 0) {
        if (!rc)
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot restore the index");
    }
    git_tree_free(tree);
    git_object_free(head);
    git_index_free(index);
    return rc;
}

int vcs_commit_undo(struct vcs_undo *u, struct otap_err *err)
{
    git_libgit2_init();
    git_repository *repo = NULL;
    if (git_repository_open(&repo, u->workdir) < 0)
        return vcs_git_fail(err, OTAP_EEXTERNAL, "cannot open the repository");
    int rc = unwind(repo, u, true, err);
    git_repository_free(repo);
    vcs_commit_forget(u);
    return rc;
}

int vcs_commit_and_tag(const char *dir, const struct vcs_file *files, size_t nfiles,
                       const char *message, const char *tag, const char *tag_message,
                       long long when, struct vcs_undo *u, struct otap_err *err)
{
    memset(u, 0, sizeof(*u));
    git_repository *repo = NULL;
    if (vcs_open(dir, &repo, err) < 0)
        return OTAP_EUSAGE;
    int rc = 0;
    bool wrote = false, moved = false;
    char **rel = NULL;
    git_reference *head = NULL, *newref = NULL, *tagref = NULL;
    git_signature *sig = NULL;
    git_index *index = NULL;
    git_tree *tree = NULL;
    git_commit *parent = NULL, *commit = NULL;
    git_oid tree_oid, commit_oid, tag_oid;
    const char *wd = git_repository_workdir(repo);
    if (!wd) {
        rc = otap_err_set(err, OTAP_EUSAGE, "the repository has no working tree");
        goto out;
    }
    u->workdir = xstrdup(wd);
    /* paths are given from dir; the index wants them from the working tree's root */
    char *here = realpath(dir, NULL);
    size_t wl = strlen(wd);
    const char *sub = here && !strncmp(here, wd, wl - 1) ? here + wl - 1 : "";
    sub += *sub == '/';
    rel = xcalloc(nfiles ? nfiles : 1, sizeof(*rel));
    for (size_t i = 0; i < nfiles; i++)
        rel[i] = *sub ? xasprintf("%s/%s", sub, files[i].path) : xstrdup(files[i].path);
    free(here);
    if (git_repository_head(&head, repo) < 0 || !git_reference_is_branch(head)) {
        rc = otap_err_set(err, OTAP_EREFUSED, "HEAD is on no branch with a commit");
        goto out;
    }
    u->branch_ref = xstrdup(git_reference_name(head));
    git_oid_tostr(u->old_commit, sizeof u->old_commit, git_reference_target(head));
    if (git_signature_default(&sig, repo) < 0) {
        rc = otap_err_set(err, OTAP_EREFUSED, "git has no identity (user.name, user.email)");
        goto out;
    }
    if (when > 0) {
        /* a reproducible release: the identity git has, at the time asked for */
        git_signature *at = NULL;
        if (git_signature_new(&at, sig->name, sig->email, (git_time_t)when, 0) == 0) {
            git_signature_free(sig);
            sig = at;
        }
    }
    /* keep what is there, then write */
    u->paths = xcalloc(nfiles, sizeof(*u->paths));
    u->old = xcalloc(nfiles, sizeof(*u->old));
    u->old_len = xcalloc(nfiles, sizeof(*u->old_len));
    u->nfiles = nfiles;
    for (size_t i = 0; i < nfiles; i++) {
        u->paths[i] = xstrdup(rel[i]);
        char *full = xasprintf("%s%s", wd, rel[i]);
        struct strbuf sb = STRBUF_INIT;
        if (strbuf_read_file(&sb, full, 0) == 0) {
            u->old[i] = strbuf_detach(&sb, &u->old_len[i]);
        } else if (errno != ENOENT) {
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read '%s': %s", rel[i], strerror(errno));
        }
        strbuf_release(&sb);
        free(full);
        if (rc < 0)
            goto out;
    }
    wrote = true;
    for (size_t i = 0; i < nfiles && rc == 0; i++) {
        char *full = xasprintf("%s%s", wd, rel[i]);
        rc = fileio_write(full, files[i].content, files[i].len, false, 0644, err);
        free(full);
    }
    if (rc < 0)
        goto out;
    if (git_repository_index(&index, repo) < 0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read the index");
        goto out;
    }
    for (size_t i = 0; i < nfiles; i++)
        if (git_index_add_bypath(index, rel[i]) < 0) {
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot stage the release files");
            goto out;
        }
    if (git_index_write_tree(&tree_oid, index) < 0 || git_tree_lookup(&tree, repo, &tree_oid) < 0 ||
        git_commit_lookup(&parent, repo, git_reference_target(head)) < 0 ||
        git_commit_create(&commit_oid, repo, NULL, sig, sig, NULL, message, tree, 1,
                          (const git_commit **)&parent) < 0 ||
        git_commit_lookup(&commit, repo, &commit_oid) < 0 ||
        git_tag_annotation_create(&tag_oid, repo, tag, (git_object *)commit, sig, tag_message) <
            0) {
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot make the release commit");
        goto out;
    }
    git_oid_tostr(u->new_commit, sizeof u->new_commit, &commit_oid);
    char *tref = xasprintf("refs/tags/%s", tag);
    if (git_reference_create(&tagref, repo, tref, &tag_oid, 0, "otap release") < 0) {
        rc = otap_err_set(err, OTAP_EREFUSED, "tag '%s' exists already", tag);
        free(tref);
        goto out;
    }
    u->tag_ref = tref;
    if (git_reference_create_matching(&newref, repo, u->branch_ref, &commit_oid, 1,
                                      git_reference_target(head), message) < 0) {
        rc = vcs_git_fail(err, OTAP_EREFUSED, "the branch moved while the release was made");
        goto out;
    }
    moved = true;
    if (git_index_write(index) < 0)
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot write the index");
out:
    if (rc < 0 && wrote) {
        struct otap_err ignored = OTAP_ERR_INIT; /* the first error is the one to report */
        if (index)
            git_index_read(index, 1);
        unwind(repo, u, moved, &ignored);
        otap_err_release(&ignored);
    }
    if (rc < 0)
        vcs_commit_forget(u);
    git_commit_free(commit);
    git_commit_free(parent);
    git_tree_free(tree);
    git_index_free(index);
    git_signature_free(sig);
    git_reference_free(tagref);
    git_reference_free(newref);
    git_reference_free(head);
    git_repository_free(repo);
    if (rel)
        xfree_strv(rel, nfiles);
    return rc;
}

/*
 * Cutting a release (otap release create): every refusal checked first,
 * then the version file and the changelog written, committed as
 * "chore(release): vX.Y.Z" and tagged, all or nothing.
 *
 * Refused, each named: a tree with uncommitted changes, a branch other
 * than the trunk, no commit since the last release, nothing that bumps the
 * version (without --version), a version that is not SemVer or not above
 * every release tag, a tag that exists, a version file or changelog that
 * cannot be read or already has the release, no git identity.
 */
#ifndef OTAP_RELEASE_CUT_H
#define OTAP_RELEASE_CUT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strvec.h"
#include "manifest/manifest.h"
#include "release/plan.h"
#include "vcs/vcs_commit.h"

struct release_cut {
    /* in */
    const char *dir; /* the working tree ("."); version_file and changelog are relative to it */
    const struct manifest *m;
    const char *version; /* --version, or NULL: the plan's */
    const char *pre;     /* --pre ID, or NULL */
    const char *date;    /* YYYY-MM-DD of the release */
    long long when;      /* the commit's and tag's time; 0: now */
    /* out of release_cut_prepare */
    struct strvec refusals;
    struct release_plan plan;
    char *version_out, *tag, *previous; /* previous: the last release's tag, or NULL */
    char *notes;                        /* the release's changelog section, without its heading */
    char *version_text, *changelog_text;
    size_t version_len, changelog_len;
    bool version_file_exists;
    /* out of release_cut_apply */
    char *commit;
    struct vcs_undo undo;
};

/* Checks everything and computes the files; refusals non-empty means stop. */
int release_cut_prepare(struct release_cut *c, struct otap_err *err);
/* Writes, commits and tags; trailer (the ledger's head) ends the tag's message. */
int release_cut_apply(struct release_cut *c, const char *trailer, struct otap_err *err);
void release_cut_release(struct release_cut *c);

#endif

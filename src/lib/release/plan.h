/*
 * What the next release is: the commits since the last release tag, what
 * each contributes, and the version that follows (otap release plan).
 *
 * A commit's bump follows semantic-release's default rules: a breaking
 * change (type! or a BREAKING CHANGE footer) is major, feat is minor, fix,
 * perf and a revert are patch, everything else none. Before 1.0.0 the
 * policy is explicit (docs/release.md): with bump_minor_pre_major (the
 * default) a breaking change bumps the minor, and with
 * bump_patch_for_minor_pre_major a feature bumps the patch, as
 * release-please's options of those names do.
 */
#ifndef OTAP_RELEASE_PLAN_H
#define OTAP_RELEASE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "manifest/manifest.h"
#include "release/commit_msg.h"
#include "vcs/vcs_tags.h"

enum bump { BUMP_NONE, BUMP_PATCH, BUMP_MINOR, BUMP_MAJOR };

const char *bump_name(enum bump b);
enum bump commit_bump(const struct commit_msg *m);

struct bump_policy {
    bool minor_pre_major;           /* 0.x: breaking -> minor */
    bool patch_for_minor_pre_major; /* 0.x: feat -> patch */
};

/* What b comes to after last under the 0.x policy. */
enum bump bump_effective(const char *last, enum bump b, const struct bump_policy *p);
/* The release after last (a final version) for bump b; NULL when b is none or last is not SemVer.
 */
char *version_bump(const char *last, enum bump b, const struct bump_policy *p);
/*
 * The next pre-release of target: target-ID.N, N one more than the highest
 * N among the tags (prefix + target-ID.N), else 1.
 */
char *version_pre(const char *target, const char *id, const struct vcs_tags *tags);

/* One commit, read for a release. */
struct release_commit {
    char *short_id, *id, *header;
    char *type, *scope, *subject; /* NULL for a commit that is not conventional */
    char *breaking_note;          /* the BREAKING CHANGE footer's text, or NULL */
    enum commit_kind kind;
    bool breaking;
    enum bump bump;
};

struct release_commits {
    struct release_commit *items;
    size_t n, alloc;
};

void release_commit_read(struct release_commit *c, const char *short_id, const char *id,
                         const char *message);
void release_commits_release(struct release_commits *l);

struct release_plan {
    const struct vcs_tag *last;     /* the last final release behind HEAD, or NULL (in tags) */
    struct vcs_tags tags;           /* every release tag */
    struct release_commits commits; /* since last, oldest first */
    enum bump bump;                 /* the largest any commit contributes */
    enum bump applied;              /* what it comes to under the 0.x policy */
    char *next;                     /* the next version, or NULL: nothing to release */
    const char *first_from;         /* where a first release's version came from */
};

/*
 * Plans the release of HEAD in the repository containing dir. initial is
 * the version a first release takes (NULL: 0.1.0); pre a pre-release id
 * ("rc") or NULL.
 */
int release_plan_make(const char *dir, const struct manifest_release *cfg, const char *initial,
                      const char *pre, struct release_plan *out, struct otap_err *err);
void release_plan_release(struct release_plan *p);

#endif

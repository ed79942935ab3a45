/*
 * The changelog, as Keep a Changelog 1.1 writes it, from Conventional
 * Commits and release tags (otap changelog, otap release create).
 *
 *   ## [Unreleased]
 *   ## [1.2.0] - 2026-11-30
 *   ### Added / Changed / Deprecated / Removed / Fixed / Security
 *   - **scope:** subject (abc1234)
 *   [1.2.0]: https://github.com/o/r/compare/v1.1.0...v1.2.0
 *
 * A commit type's section comes from release.changelog_sections, else the
 * default mapping (changelog_section_of). A breaking change is marked
 * "**Breaking:**" in whatever section its type has (Changed when it has
 * none). Each entry ends with the commit's short id: that is how an
 * insertion into an existing file knows which commits are already there.
 */
#ifndef OTAP_CHANGELOG_H
#define OTAP_CHANGELOG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "manifest/manifest.h"
#include "release/plan.h"
#include "vcs/vcs_tags.h"

struct cl_release {
    char *version;                  /* NULL: Unreleased */
    char *tag;                      /* NULL: Unreleased */
    char *prev_tag;                 /* the release before, or NULL */
    char *date;                     /* YYYY-MM-DD; NULL: Unreleased */
    struct release_commits commits; /* oldest first */
};

struct changelog {
    struct cl_release *items; /* newest first; items[0] is Unreleased */
    size_t n, alloc;
};

/*
 * One release, read: its commits oldest first. The walker frees it after
 * the call; a non-zero return stops the walk and is returned.
 */
typedef int (*changelog_fn)(void *ctx, struct cl_release *r);

/*
 * Reads the history from HEAD back to since (a commit; NULL: the root),
 * cuts it at each final release tag in tags, and calls fn for each release
 * newest first, Unreleased first, holding one release in memory at a time.
 * since_tag names since's tag, the oldest release's prev_tag.
 */
int changelog_walk(const char *dir, const struct vcs_tags *tags, const char *since,
                   const char *since_tag, changelog_fn fn, void *ctx, struct otap_err *err);
/* The same, every release kept in out. */
int changelog_collect(const char *dir, const struct vcs_tags *tags, const char *since,
                      const char *since_tag, struct changelog *out, struct otap_err *err);
void changelog_release(struct changelog *cl);

/* The section c goes in, or NULL when its type is left out. */
const char *changelog_section_of(const struct manifest_release *cfg,
                                 const struct release_commit *c);

/*
 * One release's section; commits whose "(short id)" appears in skip are
 * left out (NULL: none).
 */
void changelog_render_release(struct strbuf *sb, const struct cl_release *r,
                              const struct manifest_release *cfg, const char *skip);
/* The compare links of the releases in cl, for web (the remote's address; NULL: none). */
void changelog_render_links(struct strbuf *sb, const struct changelog *cl, const char *web,
                            const char *prefix);
/* The heading and words a new changelog starts with. */
void changelog_render_header(struct strbuf *sb);
/* A whole new file: the heading, every release in cl and the links. */
void changelog_render(struct strbuf *sb, const struct changelog *cl,
                      const struct manifest_release *cfg, const char *web);

/*
 * Inserts into an existing changelog (text, len) without rewriting what is
 * there. With r->version NULL, r's commits not yet mentioned join the
 * Unreleased section; else the Unreleased section's entries and r's new
 * ones become the release's section, under an empty Unreleased heading,
 * and its compare link is added. OTAP_EREFUSED when the file has that
 * release already.
 */
int changelog_insert(const char *path, const char *text, size_t len, const struct cl_release *r,
                     const struct manifest_release *cfg, const char *web, char **out,
                     size_t *out_len, struct otap_err *err);

/* The body of version's section in a changelog's text, without its heading; NULL when absent. */
char *changelog_section_text(const char *text, const char *version);

#endif

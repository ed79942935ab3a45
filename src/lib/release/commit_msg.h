/*
 * Commit messages as Conventional Commits 1.0 read them, and the lint
 * teams know from commitlint's conventional preset:
 *
 *   type(scope)!: subject
 *
 *   body
 *
 *   BREAKING CHANGE: what breaks
 *   Refs: #123
 *
 * Git's comment lines (#...) and everything below its scissors line are
 * not part of the message. Merge, revert, fixup!, squash! and amend!
 * messages, and a bare version ("v1.2.3"), are recognised and not linted.
 */
#ifndef OTAP_COMMIT_MSG_H
#define OTAP_COMMIT_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/strvec.h"

enum commit_kind {
    COMMIT_CONVENTIONAL, /* type(scope)!: subject */
    COMMIT_NOT_CONVENTIONAL,
    COMMIT_MERGE,
    COMMIT_REVERT,
    COMMIT_FIXUP, /* fixup!, squash!, amend!: folded away before they land */
    COMMIT_VERSION,
};

struct commit_footer {
    char *token; /* "BREAKING CHANGE", "Refs", "Reviewed-by" */
    char *value;
};

struct commit_msg {
    enum commit_kind kind;
    char *header;                 /* the first line */
    char *type, *scope, *subject; /* NULL when the header has none */
    bool bang;                    /* "type!:" */
    bool breaking;                /* "!" or a BREAKING CHANGE footer */
    char *body;                   /* between the header and the footers, or NULL */
    struct commit_footer *footers;
    size_t nfooters, footers_alloc;
    /* for the lint: what the blank-line rules need */
    bool body_after_blank, footers_after_blank;
    size_t lines_n;
    char **lines;                     /* the message's lines, comments gone */
    size_t body_first, footers_first; /* line indices; lines_n when absent */
};

void commit_msg_parse(const char *text, size_t len, struct commit_msg *out);
void commit_msg_release(struct commit_msg *m);
const char *commit_kind_name(enum commit_kind k);

/* The types commitlint's conventional preset allows. */
extern const char *const commit_default_types[];

struct commit_lint_opts {
    const char *const *types; /* NULL-terminated; NULL: commit_default_types */
    size_t max_line;          /* 0: 100 */
};

enum commit_severity { COMMIT_WARNING, COMMIT_ERROR };

struct commit_problem {
    enum commit_severity severity;
    const char *rule; /* commitlint's name: header-max-length, type-enum... */
    char *message;
    int line; /* 1-based, in the message without its comments */
};

struct commit_problems {
    struct commit_problem *items;
    size_t n, alloc;
};

/* Appends what is wrong with m to out. Merge, revert, fixup and version messages pass. */
void commit_lint(const struct commit_msg *m, const struct commit_lint_opts *opts,
                 struct commit_problems *out);
size_t commit_problems_errors(const struct commit_problems *p);
void commit_problems_release(struct commit_problems *p);

#endif

/*
 * What the secret scanner reads: a working tree, a git history, the
 * staged changes, or a stream. Each target becomes a list of inputs that
 * worker threads (one per core) scan with the engine; findings come back
 * sorted by path, line and column, so runs are reproducible.
 *
 * A working tree inside a git repository honours .gitignore (libgit2's
 * rules) unless no_ignore is set; .git itself is never read. Binary
 * inputs (a NUL byte in the first 8000 bytes, git's test) and inputs over
 * max_size are skipped and counted. The git history is read as blobs:
 * every commit reachable from a ref is walked oldest first, and each
 * blob is scanned once, under the path and commit that introduced it.
 */
#ifndef OTAP_SECRETS_SCAN_H
#define OTAP_SECRETS_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "secrets/secrets_engine.h"

struct secrets_commit {
    char id[41];
    char *author;
    char *email;
    long long time; /* seconds since the epoch */
    int tz_minutes; /* the author's offset from UTC */
};

struct secrets_source {
    char *path;     /* as shown */
    char *key_path; /* relative to the repository, for fingerprints; NULL: path */
    int commit;     /* index into commits, or -1 */
};

struct secrets_run {
    /* set by the caller */
    const struct secrets_engine *engine;
    long long max_size;
    int threads; /* 0: one per core */
    bool no_ignore;
    /* results */
    struct secrets_source *sources;
    size_t nsources, sources_alloc;
    struct secrets_commit *commits;
    size_t ncommits, commits_alloc;
    struct secret_findings findings;
    uint64_t scanned, bytes, skipped_binary, skipped_large, skipped_path, inline_allowed;
    char **errors; /* inputs that could not be read (path: why) */
    size_t nerrors, errors_alloc;
};

int secrets_scan_paths(struct secrets_run *run, char *const *paths, size_t n, struct otap_err *err);
/*
 * Every blob of every commit reachable from a ref, once. A secret is
 * reported once, at the oldest commit that holds it (path and line
 * there), with occurrences counting the blobs that carry it. since: a
 * revision whose history is taken as already scanned, or NULL.
 */
int secrets_scan_git(struct secrets_run *run, const char *dir, const char *since,
                     struct otap_err *err);
int secrets_scan_staged(struct secrets_run *run, const char *dir, struct otap_err *err);
int secrets_scan_fd(struct secrets_run *run, int fd, const char *name, struct otap_err *err);
void secrets_run_release(struct secrets_run *run);

#endif

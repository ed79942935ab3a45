/*
 * CI gates: the manifest's gates and the built-in ones, resolved into a
 * run order (needs first), each run as a job in its own process group
 * with its environment's canonical config, its output streamed and its
 * tail kept for the report (otap ci run).
 *
 * Built-in gates are otap itself (the same binary) with the arguments
 * that make the check: docs/ci.md lists them.
 */
#ifndef OTAP_CI_H
#define OTAP_CI_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/redact.h"
#include "base/strbuf.h"
#include "manifest/manifest.h"

enum ci_status { CI_PASS, CI_FAIL, CI_SKIPPED };

struct ci_step {
    char *name;
    const struct manifest_gate *gate; /* NULL for a built-in */
    const struct manifest_env *env;   /* whose config it runs with */
    char *command;                    /* the shell command it runs */
    long timeout_s;
    /* the result */
    enum ci_status status;
    int exit_code; /* -1: killed by a signal */
    bool timed_out;
    double seconds;
    char *reason;       /* why it failed or was skipped, or NULL */
    struct strbuf tail; /* the last output lines, redacted */
};

struct ci_plan {
    struct ci_step *steps; /* in run order */
    size_t n, alloc;
};

/*
 * The steps for names (NULL/0: every manifest gate, and the built-ins an
 * environment requires), each gate's needs added before it, in manifest
 * order where needs allow. otap is this binary's path; dir the project
 * root (for the trunk a built-in compares with). OTAP_EUSAGE naming an
 * unknown gate, or signoff and tag (judged when promoting).
 */
int ci_plan_make(const struct manifest *m, char *const *names, size_t nnames, const char *otap,
                 const char *dir, struct ci_plan *out, struct otap_err *err);
void ci_plan_release(struct ci_plan *p);

/* What the runner tells its caller. */
struct ci_hooks {
    /* a line of a step's output (without its newline) */
    void (*line)(void *ctx, const struct ci_step *s, bool from_stderr, const char *line,
                 size_t len);
    /* a step starts (done false) or ends (done true) */
    void (*step)(void *ctx, const struct ci_step *s, bool done);
    void *ctx;
};

struct ci_run_opts {
    const struct manifest *m;
    const char *manifest_name;
    const char *dir;               /* where gates run: the project root */
    char *const *process_env;      /* layered over each environment's config */
    const struct redactor *redact; /* applied to the kept tails */
    bool keep_going;
    struct ci_hooks hooks;
};

/* Runs the plan; 0 when every step passed, OTAP_EFOUND when one did not. */
int ci_run(struct ci_plan *p, const struct ci_run_opts *o, struct otap_err *err);
const char *ci_status_name(enum ci_status s);

#endif

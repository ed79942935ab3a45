/*
 * Running a helper program (pg_dump...) and capturing what it writes.
 *
 * The child gets the parent's environment plus extra "K=V" entries, so a
 * password can travel in PGPASSWORD instead of the command line, where
 * any user of the machine could read it in /proc.
 */
#ifndef OTAP_PROC_H
#define OTAP_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strbuf.h"

/*
 * Runs argv[0] (looked up in PATH) with extra environment entries
 * (NULL-terminated, may be NULL), collecting stdout into out (at most
 * out's limit) and stderr into errout. *status is the wait status.
 * Returns 0 when the program ran (whatever its exit status), or
 * OTAP_EEXTERNAL when it could not be started or read.
 */
int proc_capture(char *const *argv, char *const *extra_env, struct strbuf *out,
                 struct strbuf *errout, int *status, struct otap_err *err);

/* One line the child wrote (without its newline); from_stderr: which stream. */
typedef void (*proc_line_fn)(void *ctx, bool from_stderr, const char *line, size_t len);

/*
 * Runs argv[0] (looked up in envp's PATH, as execvpe does) with exactly
 * envp, in cwd (NULL: here), handing on_line every line it writes as it
 * writes it, so its output can leave through otap's redacting streams.
 * While it runs, a terminal's interrupt reaches the child (it shares the
 * process group) and is ignored here; a SIGTERM or SIGHUP sent to otap is
 * passed on to it. *status is the wait status. Returns 0 when the program
 * ran, whatever its status; OTAP_EEXTERNAL when it could not be started.
 */
int proc_relay(char *const *argv, char *const *envp, const char *cwd, proc_line_fn on_line,
               void *ctx, int *status, struct otap_err *err);

/*
 * proc_relay() for a job (a CI gate): the child leads its own process
 * group; after timeout_ms (0: none) the whole group gets SIGTERM, and
 * SIGKILL 2 s later (*timed_out is then true); when the child exits, what
 * it left running in its group gets a second to close its output and is
 * then killed, so nothing it started outlives it.
 */
int proc_relay_group(char *const *argv, char *const *envp, const char *cwd, long long timeout_ms,
                     proc_line_fn on_line, void *ctx, int *status, bool *timed_out,
                     struct otap_err *err);

/*
 * A process's start time in clock ticks since boot (field 22 of
 * /proc/PID/stat), as text: with the pid it names one process even after
 * the pid is reused. "" when the process is gone. Caller frees.
 */
char *proc_start_time(long long pid);

#endif

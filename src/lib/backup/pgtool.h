/*
 * PostgreSQL's own tools (pg_dump, pg_restore, pg_amcheck) run with a
 * pipe to or from otap, so a dump streams through otap and never lands
 * whole on disk. The connection travels in PG* variables (pgconn_env),
 * never on the command line; stderr is kept, redacted, for the message.
 */
#ifndef OTAP_BACKUP_PGTOOL_H
#define OTAP_BACKUP_PGTOOL_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/err.h"

struct pgtool {
    pid_t pid;
    int fd;     /* the child's stdout (reading) or stdin (writing); -1 when closed */
    int err_fd; /* its stderr, a temporary file */
    int out_fd; /* to_child: its stdout, a temporary file */
};

/*
 * Starts argv[0]: from PATH, else from the newest /usr/lib/postgresql/N/bin.
 * to_child: otap writes the child's stdin (its stdout goes to a file,
 * pgtool_stdout); else otap reads its stdout. extra_env: "K=V" entries over
 * otap's environment.
 */
int pgtool_start(struct pgtool *t, char *const *argv, char *const *extra_env, bool to_child,
                 struct otap_err *err);
/* to_child: what the child wrote to stdout (after pgtool_wait); caller frees. */
char *pgtool_stdout(struct pgtool *t);
/* Writes all of data to the child's stdin; -1 (EPIPE) when it stopped reading. */
int pgtool_write(struct pgtool *t, const void *data, size_t len);
/* Closes the pipe, waits; 0 when it exited 0, else OTAP_EEXTERNAL naming the tool and its stderr.
 */
int pgtool_wait(struct pgtool *t, const char *what, struct otap_err *err);
/* Kills and reaps it. */
void pgtool_kill(struct pgtool *t);

/* Is this tool to be found (pg_amcheck is not everywhere)? */
bool pgtool_exists(const char *name);

#endif

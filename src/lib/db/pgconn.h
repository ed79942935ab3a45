/*
 * Connecting to PostgreSQL and reading its errors, once for every part of
 * otap that talks to it (app databases in db/, the state store in state/).
 */
#ifndef OTAP_PGCONN_H
#define OTAP_PGCONN_H

#include <libpq-fe.h>

#include "base/err.h"

/*
 * Connects to url with otap's defaults under the URL's own settings: a
 * 10 s connect timeout, application_name otap, client encoding UTF8 (not
 * overridable). On failure OTAP_EEXTERNAL "cannot connect to WHAT'DESC':
 * why" with what ("" or "state store ") and desc (the redacted URL); the
 * connection is freed. *out is set only on success.
 */
int pgconn_open(PGconn **out, const char *url, const char *what, const char *desc,
                struct otap_err *err);

/*
 * The server's message for r (or the connection's, when r is NULL or has
 * none) on one line, redacted: libpq's messages run over lines and may
 * quote a connection string. Caller frees.
 */
char *pgconn_message(PGconn *c, const PGresult *r);

/*
 * The connection's settings as PG* variables ("PGHOST=...", NULL-
 * terminated; free with xfree_strv-like loop, or pgconn_env_free), for
 * PostgreSQL's own tools: a password never goes on a command line, where
 * any user of the machine can read it in /proc. NULL when they cannot be
 * read.
 */
char **pgconn_env(PGconn *c);
void pgconn_env_free(char **env);

#endif

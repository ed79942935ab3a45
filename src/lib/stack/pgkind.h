/*
 * kind: postgres. otap runs Debian's PostgreSQL for a stack service, from
 * a data directory under .otap/data/<service> (initdb on first start, the
 * contract's database user as its superuser, trust on 127.0.0.1), on the
 * service's registry port. Once it answers, the database the contract's
 * URL names is created and the environment's migrations applied
 * ('otap db migrate'), before any service that depends on it starts.
 * As root, the server runs as the postgres user (PostgreSQL refuses root).
 */
#ifndef OTAP_STACK_PGKIND_H
#define OTAP_STACK_PGKIND_H

#include <stdbool.h>

#include "manifest/manifest.h"

/* The server's command line (initdb run first when needed), or NULL with *why. */
char **pgkind_argv(const struct manifest *m, const struct manifest_service *s, char **envp,
                   char **why);

/* Does the server accept connections (pg_isready), not only its port? */
bool pgkind_ready(const struct manifest_service *s);

/* Creates the contract's database and migrates it; NULL, or why it failed. */
char *pgkind_prepare(const struct manifest *m, const struct manifest_service *s, const char *env,
                     const char *otap, char **envp);

#endif

/*
 * The one PostgreSQL connect and error-message function (pgconn.h): the
 * app database backend and the state store used to carry a copy each,
 * and the copies had drifted (one kept libpq's line breaks).
 */
#include "db/pgconn.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/redact.h"
#include "base/xalloc.h"
#include "base/banned.h"

char *pgconn_message(PGconn *c, const PGresult *r)
{
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char *s = xstrdup(m ? m : c ? PQerrorMessage(c) : "out of memory");
    /* "...failed: X\n\tIs the server running...": one line, single spaces */
    char *w = s;
    for (char *p = s; *p; p++) {
        bool space = *p == '\n' || *p == '\t' || *p == ' ' || *p == '\r';
        if (space && (w == s || w[-1] == ' '))
            continue;
        *w++ = space ? ' ' : *p;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
    char *red = redact_text(s);
    free(s);
    return red;
}

int pgconn_open(PGconn **out, const char *url, const char *what, const char *desc,
                struct otap_err *err)
{
    /* the URL's own settings win over these defaults, the encoding excepted */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding", NULL};
    const char *vals[] = {"10", "otap", url, "UTF8", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char *m = pgconn_message(c, NULL);
        int rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot connect to %s'%s': %s", what, desc, m);
        free(m);
        PQfinish(c);
        return rc;
    }
    *out = c;
    return 0;
}

char **pgconn_env(PGconn *c)
{
    PQconninfoOption *opts = PQconninfo(c);
    if (!opts)
        return NULL;
    size_t nenv = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        nenv++;
    char **env = xcalloc(nenv + 1, sizeof(*env));
    size_t k = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->envvar && o->val && *o->val)
            env[k++] = xasprintf("%s=%s", o->envvar, o->val);
    PQconninfoFree(opts);
    return env;
}

void pgconn_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++) {
        explicit_bzero(env[i], strlen(env[i]));
        free(env[i]);
    }
    free(env);
}

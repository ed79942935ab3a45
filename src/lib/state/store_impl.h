/*
 * Inside the state store: what each backend provides. Only store.c and
 * the backends include this.
 */
#ifndef OTAP_STORE_IMPL_H
#define OTAP_STORE_IMPL_H

#include "state/store.h"

struct store_ops {
    int (*exec)(struct store *s, const char *sql, const char *const *params, size_t nparams,
                struct store_rows *rows, struct otap_err *err);
    /* starts a transaction that excludes every other writer */
    int (*begin)(struct store *s, struct otap_err *err);
    void (*close)(struct store *s);
};

struct store {
    enum store_kind kind;
    const struct store_ops *ops;
    void *conn;
    void *impl; /* the backend's own state */
    char *url;  /* may hold a password: never shown */
    char *desc; /* redacted */
    char *path; /* SQLite */
    bool in_tx;
    const struct redactor *redact; /* what the ledger passes its text through, or NULL */
};

/* The redactor the ledger uses, or NULL. */
const struct redactor *store_redactor(const struct store *s);

int store_sqlite_open(struct store *s, struct otap_err *err);
int store_pg_open(struct store *s, struct otap_err *err);

/* Adds a row of ncols cells (copied) to r. */
void store_rows_push(struct store_rows *r, size_t ncols, const char *const *cells);

#endif

/*
 * The state store: builds, gate results, sign-offs, deployments, locks and
 * the ledger, in SQLite (.otap/state.db, the embedded default) or in a
 * shared PostgreSQL (OTAP_STATE_URL), so every CI runner and every server
 * replica of a team sees one truth.
 *
 * Both backends run the same SQL: otap's schema uses only what both
 * dialects share (text, bigint, numbered $N parameters), so one set of
 * queries, in the modules above this one, is tested against both.
 *
 * Writes happen inside store_begin()/store_commit(). A write transaction
 * is exclusive across every otap process sharing the store (SQLite's
 * BEGIN IMMEDIATE, a PostgreSQL transaction-level advisory lock): the
 * ledger is a chain, and each entry must see the one before it.
 *
 * The schema is versioned in otap_state_meta and upgraded in place when a
 * store is opened; a store written by a newer otap is refused.
 */
#ifndef OTAP_STORE_H
#define OTAP_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

enum store_kind { STORE_SQLITE, STORE_POSTGRES };

/* The schema version this otap writes. */
#define STORE_SCHEMA_VERSION 3

struct store;

/* Rows of a query, as text; a NULL cell is SQL NULL. */
struct store_rows {
    size_t nrows, ncols;
    char **cells; /* row-major */
};

/*
 * Opens the store of the project at root: OTAP_STATE_URL when set
 * (postgresql://... or sqlite:PATH), else root/.otap/state.db. Creates
 * or upgrades otap's schema. Returns 0; OTAP_EINVALID for a URL otap
 * cannot use; OTAP_EREFUSED for a schema newer than this otap;
 * OTAP_EEXTERNAL when the store cannot be reached.
 */
int store_open(struct store **out, const char *root, struct otap_err *err);
/* The same with an explicit URL. */
int store_open_url(struct store **out, const char *url, const char *root, struct otap_err *err);
void store_close(struct store *s);

struct redactor;
/*
 * The project's secrets, so that the ledger never records one: every
 * entry's subject and details pass through it (the generic rules apply
 * without). r must outlive the store.
 */
void store_set_redactor(struct store *s, const struct redactor *r);

enum store_kind store_kind_of(const struct store *s);
/* The store as messages name it, password redacted. */
const char *store_describe(const struct store *s);

/* An exclusive write transaction. */
int store_begin(struct store *s, struct otap_err *err);
int store_commit(struct store *s, struct otap_err *err);
/*
 * A read-only transaction whose reads all see one snapshot; end it with
 * store_rollback().
 */
int store_begin_snapshot(struct store *s, struct otap_err *err);
/* Safe to call when no transaction is open. */
void store_rollback(struct store *s);
/*
 * Ends the write transaction that store_begin() opened: commits when rc
 * is 0, rolls back otherwise. Returns rc, or the commit's failure. The
 * one tail of every "begin, change, append to the ledger, commit".
 */
int store_end(struct store *s, int rc, struct otap_err *err);
bool store_in_transaction(const struct store *s);

/*
 * Runs one statement with $1..$N text parameters (NULL: SQL NULL). When
 * rows is not NULL it receives the result (release it). OTAP_EEXTERNAL
 * on failure, the message naming the store.
 */
int store_exec(struct store *s, const char *sql, const char *const *params, size_t nparams,
               struct store_rows *rows, struct otap_err *err);

/*
 * The next id of table (MAX(id) + 1). Only inside a write transaction:
 * writers are serialised, so two can never take the same one.
 */
int store_next_id(struct store *s, const char *table, long long *id, struct otap_err *err);
/*
 * Copies row's cell col (row 0 when the result has rows), or NULL for SQL
 * NULL or no row. The one cell-copy helper.
 */
char *store_cell_dup(const struct store_rows *r, size_t row, size_t col);

const char *store_cell(const struct store_rows *r, size_t row, size_t col);
void store_rows_release(struct store_rows *r);

/*
 * PostgreSQL only, for LISTEN: the connection's socket to poll (-1 for
 * SQLite), and the notifications that have arrived, consumed and counted
 * (-1 when the connection is lost).
 */
int store_pg_socket(struct store *s);
int store_pg_notifications(struct store *s);

/* Now in UTC, ISO-8601 with milliseconds: how the store writes times. */
void store_time_now(char out[32]);

#endif

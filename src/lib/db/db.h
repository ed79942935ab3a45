/*
 * The databases migrations run against: PostgreSQL (libpq) and SQLite.
 *
 * One small interface with exactly the operations migrate and the marker
 * need, each backend speaking its own dialect behind it. The URL decides
 * the backend: postgresql:// or postgres:// (anything libpq accepts in
 * URI form), or sqlite:PATH / sqlite:///ABSOLUTE (a relative PATH is
 * taken from the project root, never from the current directory).
 *
 * otap's own bookkeeping lives in otap_schema_migrations: version, name,
 * checksum, applied_at, applied_by, duration_ms. A migration's statements
 * and its row are applied together (one transaction) or not at all.
 *
 * The URL may hold a password: db_describe() is the only way a database
 * is named in messages, and it is redacted. No function here prints;
 * server notices go to the notice callback, when one is set.
 */
#ifndef OTAP_DB_H
#define OTAP_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strvec.h"

enum db_kind { DB_POSTGRES, DB_SQLITE };

#define DB_MIGRATIONS_TABLE "otap_schema_migrations"

struct db;

/* How a statement failed, for "FILE:LINE: message". */
struct db_failure {
    size_t stmt;    /* index of the failing statement; (size_t)-1: otap's own record */
    long offset;    /* byte offset of the error inside that statement, -1 unknown */
    char *message;  /* the database's message */
    char *sqlstate; /* PostgreSQL's SQLSTATE, or NULL */
    char *detail;   /* or NULL */
    char *hint;     /* or NULL */
};

void db_failure_release(struct db_failure *f);

struct db_stmt {
    const char *sql; /* not NUL-terminated */
    size_t len;
};

struct db_applied {
    char *version, *name, *checksum, *applied_at, *applied_by;
    long long duration_ms;
};

struct db_applied_list {
    struct db_applied *items; /* sorted by version */
    size_t n, alloc;
};

void db_applied_list_release(struct db_applied_list *l);

enum db_open_mode {
    DB_READ,  /* an SQLite file must exist already */
    DB_WRITE, /* an SQLite file is created when missing */
};

/*
 * Connects. root resolves relative SQLite paths. Returns 0; OTAP_EINVALID
 * for a URL otap cannot use; OTAP_EEXTERNAL when the database cannot be
 * reached (the message names it, redacted).
 */
int db_open(struct db **out, const char *url, const char *root, enum db_open_mode mode,
            struct otap_err *err);
void db_close(struct db *db);
/*
 * The file an sqlite: URL names (relative paths from root), "" for a URL
 * naming no file, or NULL when the URL is not an SQLite one.
 */
char *db_sqlite_path(const char *url, const char *root);

enum db_kind db_kind_of(const struct db *db);
/* The database as messages name it: the URL without its password. */
const char *db_describe(const struct db *db);

/*
 * url with its scheme replaced by scheme (postgresql+asyncpg for
 * SQLAlchemy's async engine, postgres for dbmate, db:pg for sqitch), for
 * a migration tool that wants its own spelling. NULL when url has no
 * "scheme://". Caller frees.
 */
char *db_url_with_scheme(const char *url, const char *scheme);

typedef void (*db_notice_fn)(void *ctx, const char *message);
void db_set_notice(struct db *db, db_notice_fn fn, void *ctx);

/*
 * The run lock: PostgreSQL's session advisory lock, or a lock file beside
 * an SQLite database. Waits at most wait_ms; then OTAP_EEXTERNAL.
 */
int db_lock(struct db *db, long wait_ms, struct otap_err *err);
void db_unlock(struct db *db);

/* Does table (unquoted, in the default schema) exist? */
int db_table_exists(struct db *db, const char *table, bool *exists, struct otap_err *err);
/* What a migration creates, as a baseline checks it (db/baseline.c). */
enum db_object_kind {
    DB_OBJ_TABLE,
    DB_OBJ_INDEX,
    DB_OBJ_VIEW,
    DB_OBJ_SEQUENCE,
    DB_OBJ_TYPE,
    DB_OBJ_COLUMN,
};
const char *db_object_kind_name(enum db_object_kind kind);
/*
 * Does the object exist? name as SQL writes it (maybe schema-qualified,
 * maybe quoted); for DB_OBJ_COLUMN name is the table and column the
 * column. A kind SQLite does not have (sequence, type) exists there.
 */
int db_object_exists(struct db *db, enum db_object_kind kind, const char *name, const char *column,
                     bool *exists, struct otap_err *err);
/* The versions dbmate recorded (its schema_migrations table), oldest first; none without it. */
int db_dbmate_versions(struct db *db, struct strvec *out, bool *present, struct otap_err *err);

/* Tables and views outside the system schemas. */
int db_user_table_count(struct db *db, long *count, struct otap_err *err);

/* The single-row marker: *value NULL when the table has no row. */
int db_marker_read(struct db *db, const char *table, char **value, struct otap_err *err);
/* Creates the marker table when missing and writes its row, in one transaction. */
int db_marker_write(struct db *db, const char *table, const char *value, struct otap_err *err);

/* Creates otap_schema_migrations when missing. */
int db_migrations_init(struct db *db, struct otap_err *err);
/* The applied migrations; an empty list when the table does not exist. */
int db_migrations_applied(struct db *db, struct db_applied_list *out, struct otap_err *err);

struct db_record {
    const char *version, *name, *checksum, *actor;
};

/* Records migrations as applied without running them (a baseline), all in one transaction. */
int db_record_applied(struct db *db, const struct db_record *recs, size_t n, struct otap_err *err);

/*
 * Runs stmts and records rec, as one transaction when transaction is
 * true; otherwise statement by statement, then the record. On a failed
 * statement fills fail and returns OTAP_EFOUND (in a transaction nothing
 * was applied). Other failures (connection lost) are OTAP_EEXTERNAL.
 * *duration_ms is the time the statements took.
 */
int db_apply(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
             const struct db_record *rec, long long *duration_ms, struct db_failure *fail,
             struct otap_err *err);
/* The same for a down section: runs stmts and deletes version's row. */
int db_unapply(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
               const char *version, struct db_failure *fail, struct otap_err *err);

/*
 * Makes every earlier commit durable. PostgreSQL migrations commit
 * asynchronously (each stays atomic; a server crash can only lose whole
 * ones); this one synchronous commit flushes them all before otap reports
 * success.
 */
int db_sync(struct db *db, struct otap_err *err);

/*
 * The schema as text, stable from one run to the next: pg_dump
 * --schema-only (its version comments removed) or SQLite's schema table.
 */
int db_dump_schema(struct db *db, char **out, struct otap_err *err);
/* The first line (1-based) where a schema dump differs from the one wanted; 0 when equal. */
int db_schema_first_difference(const char *want, const char *live);

#endif

/*
 * Inside the db module: the backend table each backend fills in. Only
 * db.c, db_pg.c and db_sqlite.c include this.
 */
#ifndef OTAP_DB_IMPL_H
#define OTAP_DB_IMPL_H

#include "base/strvec.h"
#include "db/db.h"

struct db_ops {
    int (*lock)(struct db *db, long wait_ms, struct otap_err *err);
    void (*unlock)(struct db *db);
    int (*table_exists)(struct db *db, const char *table, bool *exists, struct otap_err *err);
    int (*user_table_count)(struct db *db, long *count, struct otap_err *err);
    int (*marker_read)(struct db *db, const char *table, char **value, struct otap_err *err);
    int (*marker_write)(struct db *db, const char *table, const char *value, struct otap_err *err);
    int (*migrations_init)(struct db *db, struct otap_err *err);
    int (*migrations_applied)(struct db *db, struct db_applied_list *out, struct otap_err *err);
    int (*apply)(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
                 const struct db_record *rec, long long *duration_ms, struct db_failure *fail,
                 struct otap_err *err);
    int (*unapply)(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
                   const char *version, struct db_failure *fail, struct otap_err *err);
    int (*sync)(struct db *db, struct otap_err *err);
    int (*dump_schema)(struct db *db, char **out, struct otap_err *err);
    /* the first column of every row a read-only query returns ("" for NULL) */
    int (*query_column)(struct db *db, const char *sql, int nparams, const char *const *params,
                        struct strvec *out, struct otap_err *err);
    /* records migrations as applied without running them, all in one transaction */
    int (*record)(struct db *db, const struct db_record *recs, size_t n, struct otap_err *err);
    void (*close)(struct db *db);
};

struct db {
    enum db_kind kind;
    const struct db_ops *ops;
    char *url;  /* may hold a password: wiped before it is freed */
    char *desc; /* redacted */
    db_notice_fn notice;
    void *notice_ctx;
    void *conn;  /* PGconn * or sqlite3 * */
    char *path;  /* SQLite: the file */
    int lock_fd; /* SQLite: the lock file while held, else -1 */
    bool locked;
};

int db_pg_open(struct db *db, struct otap_err *err);
int db_sqlite_open(struct db *db, enum db_open_mode mode, struct otap_err *err);

/* The marker table's DDL and row insert: the same in both dialects; caller frees. */
char *db_marker_create_sql(const char *table);
char *db_marker_insert_sql(const char *table);
/* The error for a marker table that does not hold exactly one row with id 1. */
int db_marker_rows_error(const struct db *db, const char *table, int rows, struct otap_err *err);

/* Is s a plain identifier otap may splice into SQL ([A-Za-z_][A-Za-z0-9_]*)? */
bool db_ident_ok(const char *s);

#endif

/*
 * Migration files: db/migrations/YYYYMMDDHHMMSS_name.sql.
 *
 * The format is dbmate's, so teams can switch without rewriting files:
 *
 *     -- migrate:up
 *     CREATE TABLE users (id bigint PRIMARY KEY);
 *     -- migrate:down
 *     DROP TABLE users;
 *
 * A section marker may carry "transaction:false" (for CREATE INDEX
 * CONCURRENTLY and the like): that section's statements then run one by
 * one outside a transaction. The up section is required, the down section
 * optional. The checksum is SHA-256 over the whole file's bytes, so any
 * edit, even to a comment, counts as a change.
 *
 * Loading validates everything up front and reports every problem as a
 * diagnostic with its file and line: names, duplicate versions, missing or
 * misplaced markers, unknown options, transaction statements inside a
 * transactional section, unterminated strings, invalid UTF-8. A set with
 * errors must not be applied.
 */
#ifndef OTAP_MIGRATION_H
#define OTAP_MIGRATION_H

#include <stdbool.h>
#include <time.h>
#include <stddef.h>

#include "base/diag.h"
#include "base/err.h"
#include "base/sha256.h"
#include "db/sql_split.h"

/* the versions 'otap db new' writes: a UTC time, YYYYMMDDHHMMSS */
#define MIGRATION_VERSION_LEN 14
/* the versions files may have, as dbmate reads them: any leading number (001, 20240301) */
#define MIGRATION_VERSION_MAX 64
/* A migration larger than this is refused rather than read. */
#define MIGRATION_MAX_BYTES (64u << 20)

struct migration_section {
    bool present;
    bool transaction; /* false: "transaction:false" */
    int line;         /* of the marker */
    size_t first, n;  /* its statements in script.stmts */
};

struct migration {
    char version[MIGRATION_VERSION_MAX + 1];
    char *name; /* the part after "VERSION_", without .sql; "" for VERSION.sql */
    char *path; /* as shown in messages: the migrations folder joined with the file */
    char *text; /* the whole file, NUL-terminated */
    size_t len;
    char checksum[SHA256_HEX_LEN + 1];
    struct sql_script script;
    struct migration_section up, down;
};

struct migration_set {
    struct migration *items; /* sorted by version */
    size_t n, alloc;
};

/*
 * Parses one file's text (ownership of text passes to mg); file_name is
 * the base name and display the path used in diagnostics. Returns 0, or
 * OTAP_EINVALID after adding the problems to diags.
 */
int migration_parse_take(struct migration *mg, const char *file_name, const char *display,
                         char *text, size_t len, struct diag_list *diags);
/*
 * The same for any SQL file given by name (otap db lint FILE): the name
 * needs no version, and a file without '-- migrate:' markers (Flyway's
 * V1__x.sql, sqitch's deploy/x.sql, 'alembic upgrade --sql' output) is
 * one up section that manages its own transactions.
 */
int migration_parse_plain_take(struct migration *mg, const char *file_name, const char *display,
                               char *text, size_t len, struct diag_list *diags);
void migration_release(struct migration *mg);

/*
 * Loads every *.sql file of dir (display is how dir is shown). A missing
 * directory is an empty set. Returns 0; OTAP_EINVALID when diags got
 * errors (the set then holds the files that parsed); OTAP_EEXTERNAL with
 * err when the directory cannot be read.
 */
int migration_set_load(struct migration_set *set, const char *dir, const char *display,
                       struct diag_list *diags, struct otap_err *err);
void migration_set_release(struct migration_set *set);
const struct migration *migration_set_find(const struct migration_set *set, const char *version);

/* Is name a valid migration name part ([a-z0-9_], not empty)? */
bool migration_name_valid(const char *name);

/*
 * The name part of a new migration as typed ("Add users-table" becomes
 * "add_users_table"), or NULL when it is not one even then. Caller frees.
 */
char *migration_name_from(const char *typed);

/*
 * The version of the next migration file: now (UTC), or one second after
 * the newest version in set when that is not earlier, so that files stay
 * in order however fast they are made.
 */
void migration_next_version(const struct migration_set *set, time_t now,
                            char out[MIGRATION_VERSION_LEN + 1]);

/* What a new migration file holds: the two dbmate sections, empty. */
extern const char migration_template[];

/* The statements' text of a section, for printing (--dry-run); caller frees. */
char *migration_section_sql(const struct migration *mg, const struct migration_section *sec);

#endif

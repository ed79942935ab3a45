/*
 * The unsafe-migration rules, matched on the lexer's tokens.
 *
 * Matching tokens instead of text means comments, strings and quoting
 * never confuse a rule, and every finding has the statement's exact line.
 * The rules know PostgreSQL's locking: what takes an ACCESS EXCLUSIVE
 * lock, what rewrites or scans the whole table, what cannot run inside a
 * transaction.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/dblint.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/xalloc.h"
#include "base/banned.h"

const struct dblint_rule dblint_rules[] = {
    {"add-column-not-null", "a NOT NULL column without a default on an existing table",
     "add the column nullable (or with a DEFAULT), backfill it, then add the constraint"},
    {"add-column-rewrite",
     "a column whose default is volatile (random(), gen_random_uuid(), clock_timestamp()) or "
     "that is GENERATED ... STORED rewrites the table under an exclusive lock",
     "add the column without the default, set the default, then backfill in batches"},
    {"allow-unknown-rule", "an otap:allow comment names a rule that does not exist",
     "name one of the rules 'otap db lint --help' lists"},
    {"allow-without-reason", "an otap:allow comment gives no reason",
     "write why the statement is safe after the rule: -- otap:allow RULE REASON"},
    {"alter-column-type", "changing a column's type rewrites the table under an exclusive lock",
     "add a new column of the new type, dual-write and backfill, then switch reads"},
    {"cluster", "CLUSTER rewrites the table under an exclusive lock",
     "run it by hand in a maintenance window, or use pg_repack"},
    {"concurrently-in-transaction", "CONCURRENTLY cannot run inside a transaction",
     "write 'transaction:false' after '-- migrate:up' and keep the statement on its own"},
    {"constraint-not-valid",
     "a foreign key or check constraint without NOT VALID (or validated in the transaction "
     "that added it) scans the table under lock",
     "add it with NOT VALID, then VALIDATE CONSTRAINT in a later migration"},
    {"drop-column", "dropping a column breaks the release that still reads it",
     "stop reading and writing the column in one release, drop it in a later one"},
    {"drop-table", "dropping a table breaks the release that still uses it",
     "stop using the table in one release, drop it in a later one"},
    {"index-not-concurrent",
     "building or dropping an index without CONCURRENTLY (CREATE INDEX, DROP INDEX, ADD "
     "UNIQUE or PRIMARY KEY without USING INDEX) blocks the table",
     "CREATE or DROP INDEX CONCURRENTLY in a migration marked transaction:false (then ADD "
     "CONSTRAINT ... USING INDEX)"},
    {"lock-table", "LOCK TABLE blocks every other session",
     "remove the explicit lock; let the statement take the lock it needs, with a lock_timeout"},
    {"missing-lock-timeout", "a statement that takes a strong lock with no lock_timeout set",
     "start the migration with SET lock_timeout = '5s' so a blocked lock fails fast"},
    {"rename-column", "renaming a column breaks the release that still uses the old name",
     "add the new column, dual-write and backfill, switch reads, drop the old one later"},
    {"rename-table", "renaming a table breaks the release that still uses the old name",
     "create the new table (or a view under the old name) and move over in steps"},
    {"set-not-null", "SET NOT NULL scans the whole table under an exclusive lock",
     "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later migration, then SET NOT "
     "NULL (PostgreSQL 12+ uses the check instead of scanning)"},
    {"vacuum-full", "VACUUM FULL rewrites the table under an exclusive lock",
     "use plain VACUUM, or pg_repack for a rewrite without the long lock"},
    {NULL, NULL, NULL},
};

const struct dblint_rule *dblint_rule_find(const char *id)
{
    for (const struct dblint_rule *r = dblint_rules; r->id; r++)
        if (!strcmp(r->id, id))
            return r;
    return NULL;
}

/* One statement's tokens with the file text, for matching. */
struct stmt_view {
    const char *text;
    const struct sql_tok *t;
    size_t n;
};

static bool kw(const struct stmt_view *v, size_t i, const char *w)
{
    return i < v->n && sql_tok_is(v->text, &v->t[i], w);
}

static bool punct(const struct stmt_view *v, size_t i, char c)
{
    return i < v->n && v->t[i].kind == SQL_PUNCT && v->text[v->t[i].off] == c;
}

static bool is_name(const struct stmt_view *v, size_t i)
{
    return i < v->n && (v->t[i].kind == SQL_WORD || v->t[i].kind == SQL_QIDENT);
}

/* A name as PostgreSQL resolves it: unquoted folded to lower case, quoted verbatim. */
static char *name_text(const struct stmt_view *v, size_t i)
{
    const struct sql_tok *t = &v->t[i];
    if (t->kind == SQL_QIDENT)
        return xstrndup(v->text + t->off + 1, t->len >= 2 ? t->len - 2 : 0);
    char *s = xstrndup(v->text + t->off, t->len);
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s;
}

/* Reads [schema.]name at *i; returns the last part, or NULL. */
static char *qualified_name(const struct stmt_view *v, size_t *i)
{
    if (!is_name(v, *i))
        return NULL;
    size_t k = *i;
    while (punct(v, k + 1, '.') && is_name(v, k + 2))
        k += 2;
    char *s = name_text(v, k);
    *i = k + 1;
    return s;
}

struct lint_ctx {
    const struct migration *mg;
    struct dblint_report *out;
    char **created; /* tables created in this migration */
    size_t ncreated, created_alloc;
    bool lock_timeout_set;
    bool lock_timeout_reported;
    bool explicit_tx; /* inside BEGIN ... COMMIT the migration wrote itself */
    /* constraints added NOT VALID in this transaction: validating them here scans under lock */
    char **not_valid;
    size_t nnot_valid, not_valid_alloc;
    size_t stmt; /* index into the script */
};

static bool in_strv(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

static bool is_new_table(const struct lint_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->ncreated; i++)
        if (!strcmp(c->created[i], name))
            return true;
    return false;
}

static void add_finding(struct lint_ctx *c, const char *rule, const struct sql_tok *at,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add_finding(struct lint_ctx *c, const char *rule, const struct sql_tok *at,
                        const char *fmt, ...)
{
    struct dblint_finding *f = XPUSH(&c->out->items, &c->out->n, &c->out->alloc);
    memset(f, 0, sizeof(*f));
    f->rule = dblint_rule_find(rule);
    f->path = c->mg->path;
    f->line = at->line;
    f->col = at->col;
    va_list ap;
    va_start(ap, fmt);
    f->message = xvasprintf(fmt, ap);
    va_end(ap);
}

/* A strong lock was taken: without lock_timeout it queues behind every reader. */
static void risky(struct lint_ctx *c, const struct stmt_view *v)
{
    if (c->lock_timeout_set || c->lock_timeout_reported)
        return;
    c->lock_timeout_reported = true;
    size_t words = v->n > 1 && v->t[1].kind == SQL_WORD ? 2 : 1;
    const struct sql_tok *last = &v->t[words - 1];
    add_finding(c, "missing-lock-timeout", &v->t[0],
                "%.*s takes a strong lock and no lock_timeout is set before it",
                (int)(last->off + last->len - v->t[0].off), v->text + v->t[0].off);
}

/* Does [from, to) hold the two words a b next to each other? */
static bool has_pair(const struct stmt_view *v, size_t from, size_t to, const char *a,
                     const char *b)
{
    for (size_t i = from; i + 1 < to; i++)
        if (kw(v, i, a) && kw(v, i + 1, b))
            return true;
    return false;
}

static bool has_word(const struct stmt_view *v, size_t from, size_t to, const char *w)
{
    for (size_t i = from; i < to; i++)
        if (kw(v, i, w))
            return true;
    return false;
}

/* Is the statement being linted inside a transaction (the section's, or a BEGIN of its own)? */
static bool in_transaction(const struct lint_ctx *c)
{
    return c->mg->up.transaction || c->explicit_tx;
}

/*
 * A DEFAULT that calls a function PostgreSQL may evaluate per row fills
 * every row now: any function but the stable and immutable built-ins a
 * default commonly calls (a function of the project's own is taken to be
 * volatile: otap cannot see its definition).
 */
static bool volatile_default(const struct stmt_view *v, size_t from, size_t to)
{
    static const char *const stable[] = {"now",
                                         "statement_timestamp",
                                         "transaction_timestamp",
                                         "current_setting",
                                         "lower",
                                         "upper",
                                         "concat",
                                         "coalesce",
                                         "nullif",
                                         "greatest",
                                         "least",
                                         "to_char",
                                         "to_timestamp",
                                         "to_date",
                                         "make_interval",
                                         "make_date",
                                         "jsonb_build_object",
                                         "json_build_object",
                                         "jsonb_build_array",
                                         "json_build_array",
                                         "array",
                                         "row",
                                         "int4range",
                                         "int8range",
                                         "tstzrange",
                                         "numrange",
                                         "length",
                                         "abs",
                                         "round",
                                         "trim",
                                         "md5",
                                         "encode",
                                         "decode",
                                         "to_jsonb",
                                         "to_json",
                                         "timezone",
                                         "date_trunc",
                                         "cast",
                                         "interval",
                                         "varchar",
                                         "char",
                                         "numeric",
                                         "decimal",
                                         "timestamp",
                                         "timestamptz",
                                         "time",
                                         "bit",
                                         NULL};
    for (size_t i = from; i < to; i++) {
        if (!kw(v, i, "default"))
            continue;
        for (size_t k = i + 1;
             k < to && !kw(v, k, "not") && !kw(v, k, "null") && !kw(v, k, "references") &&
             !kw(v, k, "check") && !kw(v, k, "constraint") && !kw(v, k, "unique") &&
             !kw(v, k, "primary");
             k++) {
            if (v->t[k].kind != SQL_WORD || !punct(v, k + 1, '('))
                continue;
            bool known = false;
            for (int f = 0; stable[f] && !known; f++)
                known = kw(v, k, stable[f]);
            if (!known)
                return true;
        }
    }
    return false;
}

/* CHECK (col IS NOT NULL): the column it proves not null, or NULL. */
static char *not_null_check_column(const struct stmt_view *v, size_t from, size_t to)
{
    for (size_t i = from; i + 4 < to; i++)
        if (punct(v, i, '(') && is_name(v, i + 1) && kw(v, i + 2, "is") && kw(v, i + 3, "not") &&
            kw(v, i + 4, "null") && punct(v, i + 5, ')'))
            return name_text(v, i + 1);
    return NULL;
}

static void note_not_null_check(struct lint_ctx *c, const struct stmt_view *v, size_t from,
                                size_t to, const char *table, const char *cname, bool valid)
{
    char *col = not_null_check_column(v, from, to);
    if (!col)
        return;
    struct dblint_report *r = c->out;
    if (valid)
        *XPUSH(&r->not_null_proven, &r->nproven, &r->proven_alloc) =
            xasprintf("%s\t%s", table, col);
    else if (cname)
        *XPUSH(&r->not_null_pending, &r->npending, &r->pending_alloc) =
            xasprintf("%s\t%s\t%s", cname, table, col);
    free(col);
}

/*
 * VALIDATE CONSTRAINT name: a pending not-null check on table becomes a
 * proof; a constraint this run never saw added (an earlier migration's)
 * proves the table's columns, as far as otap can tell.
 */
static void prove_not_null(struct lint_ctx *c, const char *table, const char *cname)
{
    struct dblint_report *r = c->out;
    size_t cl = strlen(cname), tl = strlen(table);
    bool seen = in_strv(c->not_valid, c->nnot_valid, cname);
    for (size_t i = 0; i < r->npending; i++) {
        const char *p = r->not_null_pending[i];
        if (!strncmp(p, cname, cl) && p[cl] == '\t') {
            seen = true;
            if (!strncmp(p + cl + 1, table, tl) && p[cl + 1 + tl] == '\t')
                *XPUSH(&r->not_null_proven, &r->nproven, &r->proven_alloc) =
                    xasprintf("%s\t%s", table, p + cl + 1 + tl + 1);
        }
    }
    if (!seen)
        *XPUSH(&r->not_null_proven, &r->nproven, &r->proven_alloc) = xasprintf("%s\t*", table);
}

static bool not_null_proven(const struct lint_ctx *c, const char *table, const char *col)
{
    char *key = xasprintf("%s\t%s", table, col);
    /* "table\t*": a constraint added by an earlier migration, which otap did not read,
     * was validated: its column is unknown, so the table gets the benefit of the doubt */
    char *any = xasprintf("%s\t*", table);
    bool yes = in_strv(c->out->not_null_proven, c->out->nproven, key) ||
               in_strv(c->out->not_null_proven, c->out->nproven, any);
    free(key);
    free(any);
    return yes;
}

/* One action of ALTER TABLE, tokens [a, b). */
static void alter_action(struct lint_ctx *c, const struct stmt_view *v, size_t a, size_t b,
                         const char *table, bool existing)
{
    const struct sql_tok *at = &v->t[a];
    if (kw(v, a, "drop")) {
        size_t i = a + 1;
        if (kw(v, i, "constraint") || kw(v, i, "default") || kw(v, i, "not") ||
            kw(v, i, "expression") || kw(v, i, "identity"))
            return;
        if (kw(v, i, "column"))
            i++;
        if (kw(v, i, "if") && kw(v, i + 1, "exists"))
            i += 2;
        if (is_name(v, i) && existing) {
            char *col = name_text(v, i);
            add_finding(c, "drop-column", at, "drops column %s of table %s", col, table);
            free(col);
        }
    } else if (kw(v, a, "rename")) {
        if (kw(v, a + 1, "to")) {
            add_finding(c, "rename-table", at, "renames table %s", table);
        } else if (!kw(v, a + 1, "constraint")) {
            size_t i = a + 1 + (kw(v, a + 1, "column") ? 1 : 0);
            if (is_name(v, i) && existing) {
                char *col = name_text(v, i);
                add_finding(c, "rename-column", at, "renames column %s of table %s", col, table);
                free(col);
            }
        }
    } else if (kw(v, a, "alter")) {
        size_t i = a + 1 + (kw(v, a + 1, "column") ? 1 : 0);
        if (!is_name(v, i) || !existing)
            return;
        char *col = name_text(v, i);
        if (kw(v, i + 1, "type") ||
            (kw(v, i + 1, "set") && kw(v, i + 2, "data") && kw(v, i + 3, "type")))
            add_finding(c, "alter-column-type", at, "changes the type of %s.%s", table, col);
        else if (kw(v, i + 1, "set") && kw(v, i + 2, "not") && kw(v, i + 3, "null") &&
                 !not_null_proven(c, table, col))
            add_finding(c, "set-not-null", at, "sets NOT NULL on %s.%s", table, col);
        free(col);
    } else if (kw(v, a, "add") && existing) {
        size_t i = a + 1;
        char *cname = NULL;
        if (kw(v, i, "constraint") && is_name(v, i + 1)) {
            cname = name_text(v, i + 1);
            i += 2;
        }
        bool fk = kw(v, i, "foreign"), check = kw(v, i, "check");
        if (fk || check) {
            bool not_valid = has_pair(v, i, b, "not", "valid");
            if (!not_valid)
                add_finding(c, "constraint-not-valid", at, "adds a %s to %s without NOT VALID",
                            fk ? "foreign key" : "check", table);
            else if (cname)
                *XPUSH(&c->not_valid, &c->nnot_valid, &c->not_valid_alloc) = xstrdup(cname);
            if (check)
                note_not_null_check(c, v, i, b, table, cname, !not_valid);
            free(cname);
            return;
        }
        free(cname);
        if ((kw(v, i, "primary") || kw(v, i, "unique")) && !has_pair(v, i, b, "using", "index")) {
            add_finding(c, "index-not-concurrent", at,
                        "adds a %s to %s, which builds its index under an exclusive lock",
                        kw(v, i, "unique") ? "UNIQUE constraint" : "PRIMARY KEY", table);
            return;
        }
        if (kw(v, i, "primary") || kw(v, i, "unique") || kw(v, i, "exclude"))
            return;
        if (kw(v, i, "column"))
            i++;
        if (kw(v, i, "if") && kw(v, i + 1, "not") && kw(v, i + 2, "exists"))
            i += 3;
        if (!is_name(v, i))
            return;
        char *col = name_text(v, i);
        bool generated = has_word(v, i, b, "generated");
        bool stored = generated && has_word(v, i, b, "stored");
        if (has_pair(v, i, b, "not", "null") && !has_word(v, i, b, "default") && !generated)
            add_finding(c, "add-column-not-null", at, "adds %s.%s NOT NULL without a default",
                        table, col);
        if (stored)
            add_finding(c, "add-column-rewrite", at,
                        "adds %s.%s GENERATED ... STORED, which computes every row now", table,
                        col);
        else if (volatile_default(v, i, b))
            add_finding(c, "add-column-rewrite", at,
                        "adds %s.%s with a volatile default, which writes every row now", table,
                        col);
        if (has_word(v, i, b, "unique") || has_pair(v, i, b, "primary", "key"))
            add_finding(c, "index-not-concurrent", at,
                        "adds %s.%s with a %s, which builds its index under an exclusive lock",
                        table, col,
                        has_word(v, i, b, "unique") ? "UNIQUE constraint" : "PRIMARY KEY");
        if (has_word(v, i, b, "references") && !has_pair(v, i, b, "not", "valid"))
            add_finding(c, "constraint-not-valid", at,
                        "adds %s.%s with a foreign key (REFERENCES) that is checked against "
                        "every row now",
                        table, col);
        free(col);
    } else if (kw(v, a, "add") && !existing) {
        return;
    } else if (kw(v, a, "validate") && kw(v, a + 1, "constraint") && is_name(v, a + 2)) {
        char *name = name_text(v, a + 2);
        if (in_transaction(c) && in_strv(c->not_valid, c->nnot_valid, name))
            add_finding(c, "constraint-not-valid", at,
                        "validates %s in the transaction that added it NOT VALID: the scan "
                        "happens under the lock after all",
                        name);
        prove_not_null(c, table, name);
        free(name);
    }
}

static void lint_alter_table(struct lint_ctx *c, const struct stmt_view *v)
{
    size_t i = 2;
    if (kw(v, i, "if") && kw(v, i + 1, "exists"))
        i += 2;
    if (kw(v, i, "only"))
        i++;
    char *table = qualified_name(v, &i);
    if (!table)
        return;
    if (punct(v, i, '*'))
        i++;
    bool existing = !is_new_table(c, table);
    if (existing)
        risky(c, v);
    int depth = 0;
    size_t start = i;
    for (size_t k = i; k <= v->n; k++) {
        if (k == v->n || (depth == 0 && punct(v, k, ','))) {
            if (k > start)
                alter_action(c, v, start, k, table, existing);
            start = k + 1;
        } else if (punct(v, k, '(')) {
            depth++;
        } else if (punct(v, k, ')') && depth > 0) {
            depth--;
        }
    }
    free(table);
}

static void lint_create(struct lint_ctx *c, const struct stmt_view *v, bool transaction)
{
    size_t i = 1;
    while (kw(v, i, "temp") || kw(v, i, "temporary") || kw(v, i, "unlogged") ||
           kw(v, i, "global") || kw(v, i, "local"))
        i++;
    if (kw(v, i, "table")) {
        i++;
        if (kw(v, i, "if") && kw(v, i + 1, "not") && kw(v, i + 2, "exists"))
            i += 3;
        char *t = qualified_name(v, &i);
        /* a foreign key to an existing table locks that table while the new one is made */
        for (size_t k = i; k < v->n; k++)
            if (kw(v, k, "references")) {
                size_t r = k + 1;
                char *ref = qualified_name(v, &r);
                bool other = ref && !is_new_table(c, ref) && (!t || strcmp(ref, t));
                free(ref);
                if (other) {
                    risky(c, v);
                    break;
                }
            }
        if (t)
            *XPUSH(&c->created, &c->ncreated, &c->created_alloc) = t;
        return;
    }
    if (kw(v, i, "unique"))
        i++;
    if (!kw(v, i, "index"))
        return;
    bool concurrently = kw(v, i + 1, "concurrently");
    size_t on = i + 1;
    while (on < v->n && !kw(v, on, "on"))
        on++;
    size_t k = on + 1;
    if (kw(v, k, "only"))
        k++;
    char *table = on < v->n ? qualified_name(v, &k) : NULL;
    if (!table)
        return;
    bool existing = !is_new_table(c, table);
    if (concurrently && transaction)
        add_finding(c, "concurrently-in-transaction", &v->t[0],
                    "CREATE INDEX CONCURRENTLY on %s inside a transaction", table);
    else if (!concurrently && existing) {
        add_finding(c, "index-not-concurrent", &v->t[0],
                    "creates an index on %s without CONCURRENTLY", table);
        risky(c, v);
    }
    free(table);
}

static void lint_drop(struct lint_ctx *c, const struct stmt_view *v, bool transaction)
{
    if (kw(v, 1, "index") && kw(v, 2, "concurrently") && transaction) {
        add_finding(c, "concurrently-in-transaction", &v->t[0],
                    "DROP INDEX CONCURRENTLY inside a transaction");
        return;
    }
    if (kw(v, 1, "index") && !kw(v, 2, "concurrently")) {
        size_t i = 2;
        if (kw(v, i, "if") && kw(v, i + 1, "exists"))
            i += 2;
        char *name = qualified_name(v, &i);
        add_finding(c, "index-not-concurrent", &v->t[0], "drops index %s without CONCURRENTLY",
                    name ? name : "");
        free(name);
        risky(c, v);
        return;
    }
    if (kw(v, 1, "schema") && has_word(v, 2, v->n, "cascade")) {
        risky(c, v);
        return;
    }
    if (!kw(v, 1, "table"))
        return;
    size_t i = 2;
    if (kw(v, i, "if") && kw(v, i + 1, "exists"))
        i += 2;
    bool any = false;
    while (i < v->n) {
        char *t = qualified_name(v, &i);
        if (!t)
            break;
        if (!is_new_table(c, t)) {
            add_finding(c, "drop-table", &v->t[0], "drops table %s", t);
            any = true;
        }
        free(t);
        if (!punct(v, i, ','))
            break;
        i++;
    }
    if (any)
        risky(c, v);
}

/* A lock_timeout value that means none: 0, '0', '0s', '0ms', DEFAULT. */
static bool zero_timeout(const struct stmt_view *v, size_t i)
{
    if (i >= v->n)
        return false;
    if (kw(v, i, "default"))
        return true;
    const char *t = v->text + v->t[i].off;
    size_t n = v->t[i].len;
    if (v->t[i].kind == SQL_STRING && n >= 2) {
        t++;
        n -= 2;
    }
    size_t z = 0;
    while (z < n && t[z] == '0')
        z++;
    return z > 0 && (z == n || (n - z <= 2 && (t[z] == 's' || t[z] == 'm')));
}

/* 1: the statement sets a lock_timeout; -1: it sets none (0); 0: not about it. */
static int sets_lock_timeout(const struct stmt_view *v)
{
    if (kw(v, 0, "set")) {
        size_t i = 1 + (kw(v, 1, "local") || kw(v, 1, "session") ? 1 : 0);
        if (!kw(v, i, "lock_timeout"))
            return 0;
        i++;
        if (kw(v, i, "to") || punct(v, i, '='))
            i++;
        return zero_timeout(v, i) ? -1 : 1;
    }
    if (kw(v, 0, "reset") && kw(v, 1, "lock_timeout"))
        return -1;
    for (size_t i = 0; i < v->n; i++)
        if (v->t[i].kind == SQL_STRING && v->t[i].len == 14 &&
            !strncasecmp(v->text + v->t[i].off, "'lock_timeout'", 14)) {
            size_t k = i + 1 + (punct(v, i + 1, ',') ? 1 : 0);
            return zero_timeout(v, k) ? -1 : 1;
        }
    return 0;
}

/* VACUUM (FULL), (FULL TRUE), (FULL ON), not (FULL FALSE) or (FULL OFF) */
static bool full_on(const struct stmt_view *v)
{
    for (size_t i = 2; i < v->n && !punct(v, i, ')'); i++)
        if (kw(v, i, "full"))
            return !(kw(v, i + 1, "false") || kw(v, i + 1, "off") ||
                     (i + 1 < v->n && v->t[i + 1].kind == SQL_NUMBER &&
                      v->text[v->t[i + 1].off] == '0'));
    return false;
}

static void lint_statement(struct lint_ctx *c, const struct stmt_view *v, bool transaction)
{
    int timeout = sets_lock_timeout(v);
    if (timeout) {
        c->lock_timeout_set = timeout > 0;
        return;
    }
    /* a BEGIN ... COMMIT of the migration's own, in a transaction:false section */
    if (kw(v, 0, "begin") || (kw(v, 0, "start") && kw(v, 1, "transaction"))) {
        c->explicit_tx = true;
        return;
    }
    if (kw(v, 0, "commit") || kw(v, 0, "end") || kw(v, 0, "rollback")) {
        /* what was added NOT VALID is committed: validating it now is the fix */
        c->explicit_tx = false;
        xfree_strv(c->not_valid, c->nnot_valid);
        c->not_valid = NULL;
        c->nnot_valid = c->not_valid_alloc = 0;
        return;
    }
    transaction = transaction || c->explicit_tx;
    if (kw(v, 0, "alter") && kw(v, 1, "table")) {
        lint_alter_table(c, v);
    } else if (kw(v, 0, "create")) {
        lint_create(c, v, transaction);
    } else if (kw(v, 0, "drop")) {
        lint_drop(c, v, transaction);
    } else if (kw(v, 0, "lock")) {
        add_finding(c, "lock-table", &v->t[0], "takes an explicit table lock");
        risky(c, v);
    } else if (kw(v, 0, "vacuum") && (kw(v, 1, "full") || (punct(v, 1, '(') && full_on(v)))) {
        add_finding(c, "vacuum-full", &v->t[0], "VACUUM FULL rewrites the table");
        risky(c, v);
    } else if (kw(v, 0, "cluster")) {
        add_finding(c, "cluster", &v->t[0], "CLUSTER rewrites the table");
        risky(c, v);
    } else if (kw(v, 0, "reindex") && transaction && has_word(v, 1, v->n, "concurrently")) {
        add_finding(c, "concurrently-in-transaction", &v->t[0],
                    "REINDEX CONCURRENTLY inside a transaction");
    } else if (kw(v, 0, "reindex") && !has_word(v, 1, v->n, "concurrently")) {
        risky(c, v);
    } else if (kw(v, 0, "truncate")) {
        risky(c, v);
    }
}

/* "-- otap:allow RULE[,RULE] REASON": applies to findings in [lo, hi). */
static void apply_allow(struct lint_ctx *c, const struct sql_comment *cm, size_t lo, size_t hi)
{
    const char *text = c->mg->text;
    const char *p = text + cm->off + 2, *end = text + cm->off + cm->len;
    if (cm->block) {
        end -= 2;
    }
    while (p < end && (*p == ' ' || *p == '\t' || *p == '*'))
        p++;
    if ((size_t)(end - p) < 10 || strncmp(p, "otap:allow", 10))
        return;
    p += 10;
    struct sql_tok at = {SQL_WORD, cm->off, cm->len, cm->line, cm->col};
    char *rules[16];
    size_t nrules = 0;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *w = p;
        while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '-'))
            p++;
        if (p == w)
            break;
        char *id = xstrndup(w, (size_t)(p - w));
        if (!dblint_rule_find(id)) {
            const char *names[64];
            size_t k = 0;
            for (const struct dblint_rule *r = dblint_rules; r->id && k < 63; r++)
                names[k++] = r->id;
            names[k] = NULL;
            const char *s = suggest_closest(id, names);
            if (s)
                add_finding(c, "allow-unknown-rule", &at,
                            "otap:allow names no rule '%s' (did you mean '%s'?)", id, s);
            else
                add_finding(c, "allow-unknown-rule", &at, "otap:allow names no rule '%s'", id);
            free(id);
        } else if (nrules < 16) {
            rules[nrules++] = id;
        } else {
            free(id);
        }
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        break;
    }
    while (p < end && (*p == ' ' || *p == '\t' || *p == ':' || *p == '-'))
        p++;
    const char *r_end = end;
    while (r_end > p && (r_end[-1] == ' ' || r_end[-1] == '\t' || r_end[-1] == '\r'))
        r_end--;
    if (!nrules)
        return;
    if (r_end == p) {
        add_finding(c, "allow-without-reason", &at,
                    "otap:allow %s gives no reason; the acknowledgement does not count", rules[0]);
    } else {
        for (size_t k = lo; k < hi; k++) {
            struct dblint_finding *f = &c->out->items[k];
            for (size_t r = 0; r < nrules; r++)
                if (f->rule && !strcmp(f->rule->id, rules[r]) && !f->acknowledged) {
                    f->acknowledged = true;
                    f->reason = xstrndup(p, (size_t)(r_end - p));
                }
        }
    }
    for (size_t r = 0; r < nrules; r++)
        free(rules[r]);
}

void dblint_migration(const struct migration *mg, struct dblint_report *out)
{
    if (!mg->up.present)
        return;
    struct lint_ctx c = {.mg = mg, .out = out};
    const struct sql_script *s = &mg->script;
    const struct sql_stmt *prev = NULL;
    for (size_t k = 0; k < mg->up.n; k++) {
        size_t idx = mg->up.first + k;
        const struct sql_stmt *st = &s->stmts[idx];
        struct stmt_view v = {mg->text, &s->toks[st->tok], st->ntok};
        size_t before = out->n;
        c.stmt = idx;
        lint_statement(&c, &v, mg->up.transaction);
        /* a statement's comments: those on its own lines (a trailing one included),
           and those on the lines between it and the statement before */
        size_t found = out->n;
        for (size_t i = 0; i < s->ncomments; i++) {
            const struct sql_comment *cm = &s->comments[i];
            bool on_lines = cm->line >= st->line && cm->line <= st->end_line &&
                            !(prev && cm->line == prev->end_line && cm->off < st->off);
            bool before_it = cm->off < st->off && (!prev || cm->line > prev->end_line);
            if (on_lines || before_it)
                apply_allow(&c, cm, before, found);
        }
        prev = st;
    }
    xfree_strv(c.created, c.ncreated);
    xfree_strv(c.not_valid, c.nnot_valid);
}

void dblint_report_release(struct dblint_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].message);
        free(r->items[i].reason);
    }
    free(r->items);
    xfree_strv(r->not_null_proven, r->nproven);
    xfree_strv(r->not_null_pending, r->npending);
    memset(r, 0, sizeof(*r));
}

size_t dblint_unacknowledged(const struct dblint_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += !r->items[i].acknowledged;
    return n;
}

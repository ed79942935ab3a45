/*
 * The objects migrations leave behind (baseline.h), read from their
 * statements' tokens: CREATE TABLE/INDEX/VIEW/SEQUENCE/TYPE, ALTER TABLE
 * ... ADD/DROP/RENAME, DROP ... An object a later migration drops or
 * renames is not expected; what otap cannot read (a function, a trigger,
 * data) is not checked.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "db/baseline.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct walker {
    const char *text;
    const struct sql_tok *t;
    size_t n, i;
};

static bool at(const struct walker *w, const char *word)
{
    return w->i < w->n && sql_tok_is(w->text, &w->t[w->i], word);
}

static bool take(struct walker *w, const char *word)
{
    if (!at(w, word))
        return false;
    w->i++;
    return true;
}

/* Takes the words only when all of them follow ("if not exists"). */
static void skip(struct walker *w, const char *a, const char *b, const char *c)
{
    size_t i = w->i;
    if (take(w, a) && (!b || take(w, b)) && (!c || take(w, c)))
        return;
    w->i = i;
}

static bool punct(const struct walker *w, char c)
{
    return w->i < w->n && w->t[w->i].kind == SQL_PUNCT && w->text[w->t[w->i].off] == c;
}

static bool ident(const struct walker *w)
{
    return w->i < w->n && (w->t[w->i].kind == SQL_WORD || w->t[w->i].kind == SQL_QIDENT);
}

/* A possibly qualified name (a.b, "A"."b") as written, or NULL. */
static char *name(struct walker *w)
{
    if (!ident(w))
        return NULL;
    size_t from = w->t[w->i].off, to = from + w->t[w->i].len;
    w->i++;
    while (punct(w, '.') && w->i + 1 < w->n &&
           (w->t[w->i + 1].kind == SQL_WORD || w->t[w->i + 1].kind == SQL_QIDENT)) {
        to = w->t[w->i + 1].off + w->t[w->i + 1].len;
        w->i += 2;
    }
    return xstrndup(w->text + from, to - from);
}

/* For comparing names: quotes gone, unquoted parts in lower case, no schema. */
static char *key(const char *n)
{
    const char *last = n;
    bool quoted = false;
    for (const char *p = n; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '.' && !quoted)
            last = p + 1;
    }
    char *k = xmalloc(strlen(last) + 1), *o = k;
    quoted = false;
    for (const char *p = last; *p; p++) {
        if (*p == '"' || *p == '`') {
            quoted = !quoted;
            continue;
        }
        *o++ = (!quoted && *p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    }
    *o = '\0';
    return k;
}

static bool same(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    char *ka = key(a), *kb = key(b);
    bool eq = !strcmp(ka, kb);
    free(ka);
    free(kb);
    return eq;
}

static void release_one(struct baseline_object *o)
{
    free(o->name);
    free(o->column);
    free(o->on);
}

static void add(struct baseline_objects *out, enum db_object_kind kind, char *nm, char *column,
                char *on, const struct migration *mg, int line)
{
    struct baseline_object *o = XPUSH(&out->items, &out->n, &out->alloc);
    *o = (struct baseline_object){kind, nm, column, on, mg, line};
}

/* Removes what matches: kind and name (a column also by its column; a table takes its
 * columns and indexes along). */
static void drop(struct baseline_objects *out, enum db_object_kind kind, const char *nm,
                 const char *column)
{
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        struct baseline_object *o = &out->items[i];
        bool gone = false;
        if (kind == DB_OBJ_COLUMN)
            gone = o->kind == DB_OBJ_COLUMN && same(o->name, nm) && same(o->column, column);
        else if (kind == DB_OBJ_TABLE)
            gone = (o->kind == DB_OBJ_TABLE && same(o->name, nm)) ||
                   (o->kind == DB_OBJ_COLUMN && same(o->name, nm)) ||
                   (o->kind == DB_OBJ_INDEX && same(o->on, nm));
        else
            gone = o->kind == kind && same(o->name, nm);
        if (gone)
            release_one(o);
        else
            out->items[k++] = *o;
    }
    out->n = k;
}

/* Renames a table or relation (and what refers to it), or a column. */
static void rename_obj(struct baseline_objects *out, enum db_object_kind kind, const char *from,
                       const char *column, const char *to)
{
    for (size_t i = 0; i < out->n; i++) {
        struct baseline_object *o = &out->items[i];
        if (kind == DB_OBJ_COLUMN) {
            if (o->kind == DB_OBJ_COLUMN && same(o->name, from) && same(o->column, column)) {
                free(o->column);
                o->column = xstrdup(to);
            }
        } else if (o->kind == kind && same(o->name, from)) {
            free(o->name);
            o->name = xstrdup(to);
        } else if (kind == DB_OBJ_TABLE && o->kind == DB_OBJ_COLUMN && same(o->name, from)) {
            free(o->name);
            o->name = xstrdup(to);
        } else if (kind == DB_OBJ_TABLE && o->kind == DB_OBJ_INDEX && same(o->on, from)) {
            free(o->on);
            o->on = xstrdup(to);
        }
    }
}

static bool kind_word(struct walker *w, enum db_object_kind *kind)
{
    if (take(w, "table"))
        *kind = DB_OBJ_TABLE;
    else if (take(w, "index"))
        *kind = DB_OBJ_INDEX;
    else if (take(w, "view"))
        *kind = DB_OBJ_VIEW;
    else if (take(w, "materialized") && take(w, "view"))
        *kind = DB_OBJ_VIEW;
    else if (take(w, "sequence"))
        *kind = DB_OBJ_SEQUENCE;
    else if (take(w, "type"))
        *kind = DB_OBJ_TYPE;
    else
        return false;
    return true;
}

static void on_create(struct walker *w, struct baseline_objects *out, const struct migration *mg,
                      int line)
{
    skip(w, "or", "replace", NULL);
    while (take(w, "temp") || take(w, "temporary") || take(w, "unlogged") || take(w, "global") ||
           take(w, "local") || take(w, "unique"))
        ;
    enum db_object_kind kind;
    if (!kind_word(w, &kind))
        return;
    if (kind == DB_OBJ_INDEX)
        take(w, "concurrently");
    skip(w, "if", "not", "exists");
    if (kind == DB_OBJ_INDEX && at(w, "on"))
        return; /* CREATE INDEX ON t (...): PostgreSQL names it */
    char *nm = name(w);
    if (!nm)
        return;
    char *on = NULL;
    if (kind == DB_OBJ_INDEX && take(w, "on")) {
        take(w, "only");
        on = name(w);
    }
    add(out, kind, nm, NULL, on, mg, line);
}

static void on_alter_table(struct walker *w, struct baseline_objects *out,
                           const struct migration *mg, int line)
{
    skip(w, "if", "exists", NULL);
    take(w, "only");
    char *table = name(w);
    if (!table)
        return;
    /* actions, separated by commas outside parentheses */
    while (w->i < w->n) {
        if (take(w, "add")) {
            bool column = take(w, "column");
            if (!column && (at(w, "constraint") || at(w, "primary") || at(w, "unique") ||
                            at(w, "foreign") || at(w, "check") || at(w, "exclude")))
                goto next;
            skip(w, "if", "not", "exists");
            char *col = name(w);
            if (col)
                add(out, DB_OBJ_COLUMN, xstrdup(table), col, NULL, mg, line);
        } else if (take(w, "drop")) {
            bool column = take(w, "column");
            if (!column && at(w, "constraint"))
                goto next;
            skip(w, "if", "exists", NULL);
            char *col = name(w);
            if (col)
                drop(out, DB_OBJ_COLUMN, table, col);
            free(col);
        } else if (take(w, "rename")) {
            if (take(w, "to")) {
                char *to = name(w);
                if (to) {
                    rename_obj(out, DB_OBJ_TABLE, table, NULL, to);
                    free(table);
                    table = to;
                }
            } else if (!at(w, "constraint")) {
                take(w, "column");
                char *col = name(w);
                char *to = col && take(w, "to") ? name(w) : NULL;
                if (col && to)
                    rename_obj(out, DB_OBJ_COLUMN, table, col, to);
                free(col);
                free(to);
            }
        }
    next:
        for (int depth = 0; w->i < w->n; w->i++) {
            if (punct(w, '('))
                depth++;
            else if (punct(w, ')'))
                depth--;
            else if (punct(w, ',') && depth == 0) {
                w->i++;
                break;
            }
        }
    }
    free(table);
}

static void on_alter_other(struct walker *w, struct baseline_objects *out, enum db_object_kind kind)
{
    skip(w, "if", "exists", NULL);
    char *nm = name(w);
    char *to = nm && take(w, "rename") && take(w, "to") ? name(w) : NULL;
    if (nm && to)
        rename_obj(out, kind, nm, NULL, to);
    free(nm);
    free(to);
}

static void on_drop(struct walker *w, struct baseline_objects *out)
{
    enum db_object_kind kind;
    if (!kind_word(w, &kind))
        return;
    take(w, "concurrently");
    skip(w, "if", "exists", NULL);
    for (;;) {
        char *nm = name(w);
        if (!nm)
            return;
        drop(out, kind, nm, NULL);
        free(nm);
        if (!punct(w, ','))
            return;
        w->i++;
    }
}

void baseline_objects_of(const struct migration *const *mgs, size_t n, struct baseline_objects *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t m = 0; m < n; m++) {
        const struct migration *mg = mgs[m];
        for (size_t s = 0; s < mg->up.n; s++) {
            const struct sql_stmt *st = &mg->script.stmts[mg->up.first + s];
            struct walker w = {mg->text, mg->script.toks + st->tok, st->ntok, 1};
            const struct sql_tok *first = &mg->script.toks[st->tok];
            enum db_object_kind kind;
            if (!st->ntok)
                continue;
            if (sql_tok_is(mg->text, first, "create")) {
                on_create(&w, out, mg, st->line);
            } else if (sql_tok_is(mg->text, first, "alter")) {
                if (take(&w, "table"))
                    on_alter_table(&w, out, mg, st->line);
                else if (kind_word(&w, &kind))
                    on_alter_other(&w, out, kind);
            } else if (sql_tok_is(mg->text, first, "drop")) {
                on_drop(&w, out);
            }
        }
    }
}

void baseline_objects_release(struct baseline_objects *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        release_one(&o->items[i]);
    free(o->items);
    memset(o, 0, sizeof(*o));
}

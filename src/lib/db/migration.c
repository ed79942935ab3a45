/*
 * Reading and validating migration files before anything touches a
 * database: a problem found here costs nothing, the same problem found
 * half-way through a production run costs an outage.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/migration.h"
#include "base/strbuf.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "base/banned.h"

bool migration_name_valid(const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

char *migration_name_from(const char *typed)
{
    char *name = xstrdup(typed);
    for (char *p = name; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
        else if (*p == ' ' || *p == '-')
            *p = '_';
    }
    if (!migration_name_valid(name)) {
        free(name);
        return NULL;
    }
    return name;
}

void migration_next_version(const struct migration_set *set, time_t now,
                            char out[MIGRATION_VERSION_LEN + 1])
{
    if (set && set->n) {
        struct tm tm = {0};
        const char *v = set->items[set->n - 1].version;
        if (strptime(v, "%Y%m%d%H%M%S", &tm)) {
            time_t newest = timegm(&tm);
            if (newest >= now)
                now = newest + 1;
        }
    }
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, MIGRATION_VERSION_LEN + 1, "%Y%m%d%H%M%S", &tm);
}

const char migration_template[] = "-- migrate:up\n\n\n-- migrate:down\n\n";

/* A file name's name part: letters, digits, '_', '-' and '.' (add.users.email). */
static bool file_name_part_valid(const char *s, size_t len)
{
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/*
 * Splits a file name as dbmate reads it (^(\d+).*\.sql$): the version is
 * the leading number, any length up to MIGRATION_VERSION_MAX (001,
 * 20240301, a UTC time); the name is the rest without one leading '_',
 * '-' or '.', and may hold dots ("003_add.users.email.sql"), or be empty
 * ("7.sql"). Returns false when the file name does not fit.
 */
static bool parse_file_name(const char *file, char version[MIGRATION_VERSION_MAX + 1], char **name)
{
    size_t len = strlen(file);
    if (len < 5 || strcmp(file + len - 4, ".sql"))
        return false;
    size_t digits = strspn(file, "0123456789");
    if (!digits || digits > MIGRATION_VERSION_MAX)
        return false;
    size_t stem = len - 4, from = digits;
    if (from < stem && strchr("_-.", file[from]))
        from++;
    if (from < stem && !file_name_part_valid(file + from, stem - from))
        return false;
    if (from == stem && from != digits)
        return false; /* "001_.sql": a separator and no name */
    memcpy(version, file, digits);
    version[digits] = '\0';
    *name = xstrndup(file + from, stem - from);
    return true;
}

/* "-- migrate:up transaction:false": 1 up, 2 down, 0 not a marker, -1 a bad one. */
static int section_marker(const char *text, const struct sql_comment *c, bool *transaction,
                          char **why)
{
    if (c->block || c->col != 1)
        return 0;
    const char *p = text + c->off + 2, *end = text + c->off + c->len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < 8 || strncmp(p, "migrate:", 8))
        return 0;
    p += 8;
    const char *w = p;
    while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
        p++;
    int kind = 0;
    if (p - w == 2 && !strncmp(w, "up", 2))
        kind = 1;
    else if (p - w == 4 && !strncmp(w, "down", 4))
        kind = 2;
    else {
        *why = xasprintf("unknown section 'migrate:%.*s' (sections are migrate:up and "
                         "migrate:down)",
                         (int)(p - w), w);
        return -1;
    }
    *transaction = true;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        if (p >= end)
            break;
        const char *o = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        size_t olen = (size_t)(p - o);
        if (olen == 17 && !strncmp(o, "transaction:false", 17))
            *transaction = false;
        else if (olen == 16 && !strncmp(o, "transaction:true", 16))
            *transaction = true;
        else {
            *why = xasprintf("unknown option '%.*s' (the only option is transaction:false)",
                             (int)olen, o);
            return -1;
        }
    }
    return kind;
}

/* BEGIN, COMMIT and friends as a statement of their own. */
static const char *transaction_statement(const struct migration *mg, const struct sql_stmt *st)
{
    static const char *const words[] = {"begin", "commit",    "rollback", "end",     "abort",
                                        "start", "savepoint", "release",  "prepare", NULL};
    const struct sql_tok *t = &mg->script.toks[st->tok];
    for (size_t i = 0; words[i]; i++) {
        if (!sql_tok_is(mg->text, t, words[i]))
            continue;
        /* START TRANSACTION, PREPARE TRANSACTION, but not a plain PREPARE of a query */
        if ((!strcmp(words[i], "start") || !strcmp(words[i], "prepare")) &&
            (st->ntok < 2 || !sql_tok_is(mg->text, t + 1, "transaction")))
            return NULL;
        return words[i];
    }
    return NULL;
}

static int parse(struct migration *mg, const char *file_name, const char *display, char *text,
                 size_t len, struct diag_list *diags, bool plain)
{
    size_t before = diag_count(diags, DIAG_ERROR);
    memset(mg, 0, sizeof(*mg));
    mg->text = text;
    mg->len = len;
    mg->path = xstrdup(display);
    if (plain) {
        /* any SQL file: its name is only a name */
        mg->name = xstrdup(file_name);
    } else if (!parse_file_name(file_name, mg->version, &mg->name)) {
        diag_add_at(diags, DIAG_ERROR, display, 0, 0,
                    "not a migration name: want VERSION_name.sql or VERSION.sql, the version "
                    "a number ('otap db new' writes a UTC time, YYYYMMDDHHMMSS), the name "
                    "letters, digits, '_', '-' or '.'");
        mg->name = xstrdup("");
    }
    sha256_hex(text, len, mg->checksum);

    size_t bad;
    if (!utf8_valid(text, len, &bad)) {
        int line, col;
        utf8_position(text, bad, &line, &col);
        diag_add_at(diags, DIAG_ERROR, display, line, col, "invalid UTF-8");
        return OTAP_EINVALID;
    }
    struct otap_err err = OTAP_ERR_INIT;
    if (sql_split(text, len, &mg->script, &err) < 0) {
        int line = 0, col = 0, used = 0;
        if (sscanf(err.msg, "%d:%d: %n", &line, &col, &used) == 2 && used > 0)
            diag_add_at(diags, DIAG_ERROR, display, line, col, "%s", err.msg + used);
        else
            diag_add_at(diags, DIAG_ERROR, display, 0, 0, "%s", err.msg);
        otap_err_release(&err);
        return OTAP_EINVALID;
    }

    const struct sql_script *s = &mg->script;
    size_t up_off = 0, down_off = 0;
    for (size_t i = 0; i < s->ncomments; i++) {
        const struct sql_comment *c = &s->comments[i];
        bool tx = true;
        char *why = NULL;
        int kind = section_marker(text, c, &tx, &why);
        if (kind < 0) {
            diag_add_at(diags, DIAG_ERROR, display, c->line, c->col, "%s", why);
            free(why);
            continue;
        }
        if (!kind)
            continue;
        struct migration_section *sec = kind == 1 ? &mg->up : &mg->down;
        if (sec->present) {
            diag_add_at(diags, DIAG_ERROR, display, c->line, c->col,
                        "a second 'migrate:%s' section (the first is on line %d)",
                        kind == 1 ? "up" : "down", sec->line);
            continue;
        }
        sec->present = true;
        sec->transaction = tx;
        sec->line = c->line;
        (kind == 1 ? &up_off : &down_off)[0] = c->off;
        /* a marker inside a statement means the statement before it has no ';' */
        for (size_t k = 0; k < s->nstmts; k++)
            if (s->stmts[k].off < c->off && c->off < s->stmts[k].off + s->stmts[k].len)
                diag_add_at(diags, DIAG_ERROR, display, c->line, c->col,
                            "section marker inside the statement that starts on line %d "
                            "(is a ';' missing?)",
                            s->stmts[k].line);
    }
    /* a plain SQL file (Flyway, sqitch, 'alembic upgrade --sql') is one up section that
     * manages its own transactions */
    bool whole = plain && !mg->up.present && !mg->down.present;
    if (whole) {
        mg->up.present = true;
        mg->up.transaction = false;
        mg->up.line = 1;
    } else if (!mg->up.present) {
        diag_add_at(diags, DIAG_ERROR, display, 1, 1,
                    "no '-- migrate:up' line: a migration starts with its up section");
    } else if (mg->down.present && down_off < up_off) {
        diag_add_at(diags, DIAG_ERROR, display, mg->down.line, 1,
                    "the down section comes before the up section (line %d)", mg->up.line);
    }
    if (diag_count(diags, DIAG_ERROR) > before)
        return OTAP_EINVALID;

    /* assign statements to sections by position */
    for (size_t k = 0; k < s->nstmts; k++) {
        const struct sql_stmt *st = &s->stmts[k];
        struct migration_section *sec = NULL;
        if (whole || (st->off > up_off && (!mg->down.present || st->off < down_off)))
            sec = &mg->up;
        else if (mg->down.present && st->off > down_off)
            sec = &mg->down;
        if (!sec) {
            diag_add_at(diags, DIAG_ERROR, display, st->line, st->col,
                        "statement before '-- migrate:up' (on line %d)", mg->up.line);
            continue;
        }
        if (!sec->n)
            sec->first = k;
        sec->n++;
        const char *word = sec->transaction ? transaction_statement(mg, st) : NULL;
        if (word)
            diag_add_at(diags, DIAG_ERROR, display, st->line, st->col,
                        "'%s' inside a migration: otap runs each section in its own "
                        "transaction (write 'transaction:false' after the marker to manage "
                        "it yourself)",
                        word);
    }
    if (diag_count(diags, DIAG_ERROR) > before)
        return OTAP_EINVALID;
    if (!mg->up.n)
        diag_add_at(diags, DIAG_WARNING, display, mg->up.line, 1, "the up section is empty");
    return 0;
}

int migration_parse_take(struct migration *mg, const char *file_name, const char *display,
                         char *text, size_t len, struct diag_list *diags)
{
    return parse(mg, file_name, display, text, len, diags, false);
}

int migration_parse_plain_take(struct migration *mg, const char *file_name, const char *display,
                               char *text, size_t len, struct diag_list *diags)
{
    return parse(mg, file_name, display, text, len, diags, true);
}

void migration_release(struct migration *mg)
{
    if (!mg)
        return;
    free(mg->name);
    free(mg->path);
    free(mg->text);
    sql_script_release(&mg->script);
    memset(mg, 0, sizeof(*mg));
}

static int by_version(const void *a, const void *b)
{
    return strcmp(((const struct migration *)a)->version, ((const struct migration *)b)->version);
}

int migration_set_load(struct migration_set *set, const char *dir, const char *display,
                       struct diag_list *diags, struct otap_err *err)
{
    memset(set, 0, sizeof(*set));
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot open '%s': %s", display, strerror(errno));
    }
    size_t before = diag_count(diags, DIAG_ERROR);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (de->d_name[0] == '.' || nl < 4 || strcasecmp(de->d_name + nl - 4, ".sql"))
            continue;
        char *path = xasprintf("%s/%s", dir, de->d_name);
        char *shown = xasprintf("%s/%s", display, de->d_name);
        struct strbuf sb = STRBUF_INIT;
        if (strbuf_read_file(&sb, path, MIGRATION_MAX_BYTES) < 0) {
            diag_add_at(diags, DIAG_ERROR, shown, 0, 0, "cannot read: %s",
                        errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
            strbuf_release(&sb);
        } else {
            size_t len;
            char *text = strbuf_detach(&sb, &len);
            struct migration mg;
            if (migration_parse_take(&mg, de->d_name, shown, text, len, diags) == 0)
                *XPUSH(&set->items, &set->n, &set->alloc) = mg;
            else
                migration_release(&mg);
        }
        free(path);
        free(shown);
    }
    closedir(d);
    if (set->n)
        qsort(set->items, set->n, sizeof(*set->items), by_version);
    for (size_t i = 1; i < set->n; i++)
        if (!strcmp(set->items[i].version, set->items[i - 1].version))
            diag_add_at(diags, DIAG_ERROR, set->items[i].path, 0, 0,
                        "version %s is also used by '%s'", set->items[i].version,
                        set->items[i - 1].path);
    return diag_count(diags, DIAG_ERROR) > before ? OTAP_EINVALID : 0;
}

void migration_set_release(struct migration_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        migration_release(&set->items[i]);
    free(set->items);
    memset(set, 0, sizeof(*set));
}

const struct migration *migration_set_find(const struct migration_set *set, const char *version)
{
    for (size_t i = 0; i < set->n; i++)
        if (!strcmp(set->items[i].version, version))
            return &set->items[i];
    return NULL;
}

char *migration_section_sql(const struct migration *mg, const struct migration_section *sec)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t k = 0; k < sec->n; k++) {
        const struct sql_stmt *st = &mg->script.stmts[sec->first + k];
        strbuf_add(&sb, mg->text + st->off, st->len);
        strbuf_addstr(&sb, ";\n");
    }
    return strbuf_detach(&sb, NULL);
}

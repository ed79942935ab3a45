/*
 * The dotenv parser: a single pass over the text with a small state
 * machine per value (unquoted, single quoted, double quoted), so quotes
 * may span lines and errors carry the line a value started on. Values
 * are kept as parts so that ${NAME} can be resolved later against every
 * layer, not only the file it is written in.
 */
#include "config/dotenv.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct parser {
    const char *s;
    size_t len, pos;
    int line;
    struct dotenv *out;
    struct diag_list *diags;
};

#define PERR(p, ln, ...) diag_add((p)->diags, DIAG_ERROR, (ln), 0, __VA_ARGS__)

bool dotenv_valid_key(const char *s, size_t len)
{
    if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

static int peek(const struct parser *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static void skip_blanks(struct parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        p->pos++;
}

/* Skips to just past the end of the current line. */
static void skip_line(struct parser *p)
{
    while (p->pos < p->len && p->s[p->pos] != '\n')
        p->pos++;
    if (p->pos < p->len) {
        p->pos++;
        p->line++;
    }
}

static void entry_release(struct dotenv_entry *e)
{
    free(e->key);
    for (size_t i = 0; i < e->nparts; i++) {
        free(e->parts[i].text);
        free(e->parts[i].def);
    }
    free(e->parts);
    memset(e, 0, sizeof(*e));
}

static void flush_literal(struct dotenv_entry *e, struct strbuf *lit)
{
    if (!lit->len)
        return;
    struct dotenv_part *part = XPUSH(&e->parts, &e->nparts, &e->alloc);
    part->kind = DOTENV_LITERAL;
    part->text = strbuf_detach(lit, NULL);
    part->def = NULL;
}

/*
 * At "${": parses the reference up to '}' on this line and appends it.
 * Returns false (after reporting) when it is malformed; p->pos is then
 * left where scanning can go on.
 */
static bool parse_ref(struct parser *p, struct dotenv_entry *e, struct strbuf *lit, int quote)
{
    int line = p->line;
    p->pos += 2;
    size_t name_start = p->pos;
    while (p->pos < p->len && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_'))
        p->pos++;
    size_t name_len = p->pos - name_start;
    if (!dotenv_valid_key(p->s + name_start, name_len)) {
        PERR(p, line, "'%s': invalid variable name in ${...}", e->key);
        return false;
    }
    char *def = NULL;
    if (peek(p) == ':' && p->pos + 1 < p->len && p->s[p->pos + 1] == '-') {
        p->pos += 2;
        size_t def_start = p->pos;
        while (p->pos < p->len && p->s[p->pos] != '}' && p->s[p->pos] != '\n' &&
               p->s[p->pos] != quote) {
            if (p->s[p->pos] == '$' && p->pos + 1 < p->len && p->s[p->pos + 1] == '{') {
                PERR(p, line, "'%s': nested ${...} in a default is not supported", e->key);
                return false;
            }
            p->pos++;
        }
        def = xstrndup(p->s + def_start, p->pos - def_start);
    } else if (peek(p) != '}') {
        if (peek(p) == ':' || peek(p) == '-' || peek(p) == '=' || peek(p) == '?')
            PERR(p, line, "'%s': only ${NAME} and ${NAME:-default} are supported", e->key);
        else
            PERR(p, line, "'%s': unterminated ${...}", e->key);
        return false;
    }
    if (peek(p) != '}') {
        free(def);
        PERR(p, line, "'%s': unterminated ${...}", e->key);
        return false;
    }
    p->pos++;
    flush_literal(e, lit);
    struct dotenv_part *part = XPUSH(&e->parts, &e->nparts, &e->alloc);
    part->kind = DOTENV_REF;
    part->text = xstrndup(p->s + name_start, name_len);
    part->def = def;
    return true;
}

/* After a closing quote: only blanks and a comment may follow on the line. */
static bool rest_of_line_empty(struct parser *p, const char *key, int line)
{
    skip_blanks(p);
    int c = peek(p);
    if (c == -1 || c == '\n' || c == '#') {
        skip_line(p);
        return true;
    }
    PERR(p, line, "'%s': unexpected text after the closing quote", key);
    skip_line(p);
    return false;
}

static bool parse_single(struct parser *p, struct dotenv_entry *e, int start_line)
{
    struct strbuf lit = STRBUF_INIT;
    p->pos++;
    while (p->pos < p->len && p->s[p->pos] != '\'') {
        if (p->s[p->pos] == '\n')
            p->line++;
        strbuf_addch(&lit, p->s[p->pos++]);
    }
    if (p->pos >= p->len) {
        PERR(p, start_line, "'%s': unterminated single-quoted value", e->key);
        strbuf_release(&lit);
        return false;
    }
    p->pos++;
    flush_literal(e, &lit);
    strbuf_release(&lit);
    return rest_of_line_empty(p, e->key, start_line);
}

static bool parse_double(struct parser *p, struct dotenv_entry *e, int start_line)
{
    struct strbuf lit = STRBUF_INIT;
    bool ok = true;
    p->pos++;
    while (p->pos < p->len && p->s[p->pos] != '"') {
        char ch = p->s[p->pos];
        if (ch == '\\' && p->pos + 1 < p->len) {
            char esc;
            switch (p->s[p->pos + 1]) {
            case 'n':
                esc = '\n';
                break;
            case 't':
                esc = '\t';
                break;
            case 'r':
                esc = '\r';
                break;
            case '"':
            case '\\':
            case '$':
                esc = p->s[p->pos + 1];
                break;
            default:
                esc = 0; /* an unknown escape stays as written */
            }
            if (esc) {
                strbuf_addch(&lit, esc);
                p->pos += 2;
            } else {
                strbuf_addch(&lit, ch);
                p->pos++;
            }
            continue;
        }
        if (ch == '$' && p->pos + 1 < p->len && p->s[p->pos + 1] == '{') {
            if (!parse_ref(p, e, &lit, '"'))
                ok = false;
            continue;
        }
        if (ch == '\n')
            p->line++;
        strbuf_addch(&lit, ch);
        p->pos++;
    }
    if (p->pos >= p->len) {
        PERR(p, start_line, "'%s': unterminated double-quoted value", e->key);
        strbuf_release(&lit);
        return false;
    }
    p->pos++;
    flush_literal(e, &lit);
    strbuf_release(&lit);
    return rest_of_line_empty(p, e->key, start_line) && ok;
}

static bool parse_unquoted(struct parser *p, struct dotenv_entry *e, int start_line)
{
    struct strbuf lit = STRBUF_INIT;
    bool ok = true;
    while (p->pos < p->len && p->s[p->pos] != '\n') {
        char ch = p->s[p->pos];
        if (ch == '#' && p->pos > 0 && (p->s[p->pos - 1] == ' ' || p->s[p->pos - 1] == '\t'))
            break;
        if (ch == '$' && p->pos + 1 < p->len && p->s[p->pos + 1] == '{') {
            if (!parse_ref(p, e, &lit, -1)) {
                ok = false;
                break;
            }
            continue;
        }
        strbuf_addch(&lit, ch);
        p->pos++;
    }
    while (lit.len && (lit.buf[lit.len - 1] == ' ' || lit.buf[lit.len - 1] == '\t'))
        lit.buf[--lit.len] = '\0';
    flush_literal(e, &lit);
    strbuf_release(&lit);
    (void)start_line;
    skip_line(p);
    return ok;
}

static void add_entry(struct parser *p, struct dotenv_entry *e)
{
    for (size_t i = 0; i < p->out->n; i++) {
        if (!strcmp(p->out->items[i].key, e->key)) {
            diag_add(p->diags, DIAG_WARNING, e->line, 0,
                     "duplicate key '%s' (also on line %d); the last one wins", e->key,
                     p->out->items[i].line);
            break;
        }
    }
    *XPUSH(&p->out->items, &p->out->n, &p->out->alloc) = *e;
    memset(e, 0, sizeof(*e));
}

static void parse_line(struct parser *p)
{
    int start_line = p->line;
    skip_blanks(p);
    int c = peek(p);
    if (c == '\n' || c == -1 || c == '#') {
        skip_line(p);
        return;
    }
    if (p->len - p->pos > 7 && !strncmp(p->s + p->pos, "export", 6) &&
        (p->s[p->pos + 6] == ' ' || p->s[p->pos + 6] == '\t')) {
        p->pos += 6;
        skip_blanks(p);
    }
    size_t eol = p->pos;
    while (eol < p->len && p->s[eol] != '\n')
        eol++;
    const char *eq = memchr(p->s + p->pos, '=', eol - p->pos);
    if (!eq) {
        PERR(p, start_line, "expected KEY=VALUE, found no '='");
        skip_line(p);
        return;
    }
    size_t key_start = p->pos;
    size_t key_len = (size_t)(eq - (p->s + key_start));
    while (key_len &&
           (p->s[key_start + key_len - 1] == ' ' || p->s[key_start + key_len - 1] == '\t'))
        key_len--;
    if (!key_len) {
        PERR(p, start_line, "a value with no name before '='");
        skip_line(p);
        return;
    }
    if (!dotenv_valid_key(p->s + key_start, key_len)) {
        PERR(p, start_line,
             "invalid key '%.*s': use letters, digits and '_', not starting with a digit",
             (int)key_len, p->s + key_start);
        skip_line(p);
        return;
    }
    p->pos = (size_t)(eq - p->s);
    p->pos++; /* '=' */
    skip_blanks(p);
    struct dotenv_entry e = {0};
    e.key = xstrndup(p->s + key_start, key_len);
    e.line = start_line;
    bool ok;
    if (peek(p) == '\'') {
        e.quote = DOTENV_SINGLE;
        ok = parse_single(p, &e, start_line);
    } else if (peek(p) == '"') {
        e.quote = DOTENV_DOUBLE;
        ok = parse_double(p, &e, start_line);
    } else {
        e.quote = DOTENV_UNQUOTED;
        ok = parse_unquoted(p, &e, start_line);
    }
    if (ok)
        add_entry(p, &e);
    else
        entry_release(&e);
}

void dotenv_parse(struct dotenv *out, const char *data, size_t len, const char *file,
                  struct diag_list *diags)
{
    memset(out, 0, sizeof(*out));
    out->file = xstrdup(file);
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        data += 3;
        len -= 3;
    }
    const char *nul = memchr(data, '\0', len);
    if (nul) {
        int line, col;
        utf8_position(data, (size_t)(nul - data), &line, &col);
        diag_add(diags, DIAG_ERROR, line, 0, "holds a NUL byte; is it a binary file?");
        return;
    }
    size_t bad;
    if (!utf8_valid(data, len, &bad)) {
        int line, col;
        utf8_position(data, bad, &line, &col);
        diag_add(diags, DIAG_ERROR, line, 0, "invalid UTF-8 (byte 0x%02x)",
                 (unsigned char)data[bad]);
        return;
    }
    /* CRLF becomes LF once, here, so the parser sees one kind of line end */
    struct strbuf text = STRBUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
            continue;
        strbuf_addch(&text, data[i]);
    }
    struct parser p = {text.buf, text.len, 0, 1, out, diags};
    while (p.pos < p.len)
        parse_line(&p);
    strbuf_release(&text);
}

int dotenv_load(struct dotenv *out, const char *path, struct diag_list *diags)
{
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path, DOTENV_MAX_BYTES) < 0) {
        int e = errno;
        strbuf_release(&sb);
        memset(out, 0, sizeof(*out));
        out->file = xstrdup(path);
        if (e == ENOENT)
            return 1;
        if (e == EFBIG)
            diag_add(diags, DIAG_ERROR, 0, 0, "larger than %u bytes", DOTENV_MAX_BYTES);
        else
            diag_add(diags, DIAG_ERROR, 0, 0, "cannot read: %s", strerror(e));
        return -1;
    }
    dotenv_parse(out, sb.buf, sb.len, path, diags);
    strbuf_release(&sb);
    return 0;
}

void dotenv_release(struct dotenv *d)
{
    for (size_t i = 0; i < d->n; i++)
        entry_release(&d->items[i]);
    free(d->items);
    free(d->file);
    memset(d, 0, sizeof(*d));
}

const struct dotenv_entry *dotenv_get(const struct dotenv *d, const char *key)
{
    for (size_t i = d->n; i-- > 0;)
        if (!strcmp(d->items[i].key, key))
            return &d->items[i];
    return NULL;
}

bool dotenv_entry_has_refs(const struct dotenv_entry *e)
{
    for (size_t i = 0; i < e->nparts; i++)
        if (e->parts[i].kind == DOTENV_REF)
            return true;
    return false;
}

char *dotenv_expand(const struct dotenv_entry *e, dotenv_lookup_fn lookup, void *ctx,
                    const char **missing)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < e->nparts; i++) {
        const struct dotenv_part *part = &e->parts[i];
        if (part->kind == DOTENV_LITERAL) {
            strbuf_addstr(&sb, part->text);
            continue;
        }
        const char *v = lookup(part->text, ctx);
        /* ${NAME:-def} takes the default when NAME is unset or empty, as in sh */
        if ((!v || !*v) && part->def)
            v = part->def;
        if (!v) {
            if (missing)
                *missing = part->text;
            strbuf_release(&sb);
            return NULL;
        }
        strbuf_addstr(&sb, v);
    }
    return strbuf_detach(&sb, NULL);
}

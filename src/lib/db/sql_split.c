/*
 * A small SQL lexer that cuts a script into statements.
 *
 * It exists because every migration tool that splits on ';' with a
 * regular expression breaks on the first function body or string with a
 * semicolon in it, and because a migration error or lint finding is only
 * useful with the right line. The lexer knows PostgreSQL's lexical rules
 * (and the few SQLite adds) well enough for that; it does not parse.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/sql_split.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct lexer {
    const char *s;
    size_t len, i;
    int line, col;
    struct sql_script *out;
    /* the statement being built */
    bool in_stmt;
    size_t stmt_tok;
    int block_depth; /* BEGIN ... END nesting inside CREATE TRIGGER / BEGIN ATOMIC */
    bool is_trigger; /* the statement is CREATE [..] TRIGGER */
};

static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static void advance(struct lexer *lx, size_t n)
{
    for (size_t k = 0; k < n && lx->i < lx->len; k++, lx->i++) {
        if (lx->s[lx->i] == '\n') {
            lx->line++;
            lx->col = 1;
        } else {
            lx->col++;
        }
    }
}

bool sql_tok_is(const char *text, const struct sql_tok *t, const char *w)
{
    if (t->kind != SQL_WORD || strlen(w) != t->len)
        return false;
    return !strncasecmp(text + t->off, w, t->len);
}

static void end_stmt(struct lexer *lx)
{
    struct sql_script *o = lx->out;
    if (lx->in_stmt && o->ntoks > lx->stmt_tok) {
        const struct sql_tok *first = &o->toks[lx->stmt_tok];
        const struct sql_tok *last = &o->toks[o->ntoks - 1];
        struct sql_stmt *st = XPUSH(&o->stmts, &o->nstmts, &o->stmts_alloc);
        st->off = first->off;
        st->len = last->off + last->len - first->off;
        st->line = first->line;
        st->col = first->col;
        st->end_line = last->line;
        for (size_t k = last->off; k < last->off + last->len; k++)
            if (lx->s[k] == '\n')
                st->end_line++;
        st->tok = lx->stmt_tok;
        st->ntok = o->ntoks - lx->stmt_tok;
    }
    lx->in_stmt = false;
    lx->block_depth = 0;
    lx->is_trigger = false;
}

/* Tracks BEGIN ... END bodies so that their ';' stay inside the statement. */
static void note_word(struct lexer *lx, const struct sql_tok *t)
{
    const struct sql_script *o = lx->out;
    size_t idx = o->ntoks - 1 - lx->stmt_tok; /* position of t in its statement */
    const struct sql_tok *first = &o->toks[lx->stmt_tok];
    if (!sql_tok_is(lx->s, first, "create"))
        return;
    if (idx > 0 && idx <= 4 && sql_tok_is(lx->s, t, "trigger"))
        lx->is_trigger = true;
    if (sql_tok_is(lx->s, t, "begin")) {
        if (lx->is_trigger || lx->block_depth > 0)
            lx->block_depth++;
    } else if (sql_tok_is(lx->s, t, "atomic") && idx > 0 && sql_tok_is(lx->s, t - 1, "begin") &&
               !lx->is_trigger && lx->block_depth == 0) {
        lx->block_depth = 1;
    } else if (sql_tok_is(lx->s, t, "case") && lx->block_depth > 0) {
        lx->block_depth++;
    } else if (sql_tok_is(lx->s, t, "end") && lx->block_depth > 0) {
        lx->block_depth--;
    }
}

static struct sql_tok *push_tok(struct lexer *lx, enum sql_tok_kind kind, size_t off, int line,
                                int col)
{
    struct sql_script *o = lx->out;
    if (!lx->in_stmt) {
        lx->in_stmt = true;
        lx->stmt_tok = o->ntoks;
    }
    struct sql_tok *t = XPUSH(&o->toks, &o->ntoks, &o->toks_alloc);
    t->kind = kind;
    t->off = off;
    t->len = lx->i - off;
    t->line = line;
    t->col = col;
    return t;
}

/* $tag$ at lx->i: returns the length of the delimiter, or 0 when it is not one. */
static size_t dollar_tag(const struct lexer *lx)
{
    size_t j = lx->i + 1;
    if (j < lx->len && lx->s[j] != '$') {
        if (!is_ident_start((unsigned char)lx->s[j]))
            return 0;
        while (j < lx->len && is_ident_char((unsigned char)lx->s[j]) && lx->s[j] != '$')
            j++;
    }
    if (j >= lx->len || lx->s[j] != '$')
        return 0;
    return j + 1 - lx->i;
}

static int unterminated(int line, int col, const char *what, struct otap_err *err)
{
    return otap_err_set(err, OTAP_EINVALID, "%d:%d: unterminated %s", line, col, what);
}

static int lex(struct lexer *lx, struct otap_err *err)
{
    const char *s = lx->s;
    while (lx->i < lx->len) {
        unsigned char c = (unsigned char)s[lx->i];
        size_t off = lx->i;
        int line = lx->line, col = lx->col;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(lx, 1);
        } else if (c == '-' && off + 1 < lx->len && s[off + 1] == '-') {
            while (lx->i < lx->len && s[lx->i] != '\n')
                advance(lx, 1);
            struct sql_comment *cm =
                XPUSH(&lx->out->comments, &lx->out->ncomments, &lx->out->comments_alloc);
            *cm = (struct sql_comment){off, lx->i - off, line, col, false};
        } else if (c == '/' && off + 1 < lx->len && s[off + 1] == '*') {
            int depth = 0;
            for (;;) {
                if (lx->i + 1 >= lx->len)
                    return unterminated(line, col, "block comment", err);
                if (s[lx->i] == '/' && s[lx->i + 1] == '*') {
                    depth++;
                    advance(lx, 2);
                } else if (s[lx->i] == '*' && s[lx->i + 1] == '/') {
                    advance(lx, 2);
                    if (--depth == 0)
                        break;
                } else {
                    advance(lx, 1);
                }
            }
            struct sql_comment *cm =
                XPUSH(&lx->out->comments, &lx->out->ncomments, &lx->out->comments_alloc);
            *cm = (struct sql_comment){off, lx->i - off, line, col, true};
        } else if (c == '\'' ||
                   ((c == 'E' || c == 'e') && off + 1 < lx->len && s[off + 1] == '\'')) {
            bool escapes = c != '\'';
            advance(lx, escapes ? 2 : 1);
            for (;;) {
                if (lx->i >= lx->len)
                    return unterminated(line, col, "string", err);
                if (escapes && s[lx->i] == '\\') {
                    advance(lx, 2);
                } else if (s[lx->i] == '\'') {
                    advance(lx, 1);
                    if (lx->i < lx->len && s[lx->i] == '\'')
                        advance(lx, 1);
                    else
                        break;
                } else {
                    advance(lx, 1);
                }
            }
            push_tok(lx, SQL_STRING, off, line, col);
        } else if (c == '"' || c == '`') {
            advance(lx, 1);
            for (;;) {
                if (lx->i >= lx->len)
                    return unterminated(line, col, "quoted identifier", err);
                if ((unsigned char)s[lx->i] == c) {
                    advance(lx, 1);
                    if (lx->i < lx->len && (unsigned char)s[lx->i] == c)
                        advance(lx, 1);
                    else
                        break;
                } else {
                    advance(lx, 1);
                }
            }
            push_tok(lx, SQL_QIDENT, off, line, col);
        } else if (c == '$' && dollar_tag(lx)) {
            size_t tlen = dollar_tag(lx);
            const char *tag = s + off;
            advance(lx, tlen);
            for (;;) {
                if (lx->i + tlen > lx->len)
                    return unterminated(line, col, "dollar-quoted string", err);
                if (s[lx->i] == '$' && !memcmp(s + lx->i, tag, tlen)) {
                    advance(lx, tlen);
                    break;
                }
                advance(lx, 1);
            }
            push_tok(lx, SQL_STRING, off, line, col);
        } else if (is_ident_start(c)) {
            while (lx->i < lx->len && is_ident_char((unsigned char)s[lx->i]))
                advance(lx, 1);
            struct sql_tok *t = push_tok(lx, SQL_WORD, off, line, col);
            note_word(lx, t);
        } else if (is_digit(c) ||
                   (c == '.' && off + 1 < lx->len && is_digit((unsigned char)s[off + 1]))) {
            while (lx->i < lx->len && (is_ident_char((unsigned char)s[lx->i]) || s[lx->i] == '.'))
                advance(lx, 1);
            push_tok(lx, SQL_NUMBER, off, line, col);
        } else if (c == ';') {
            advance(lx, 1);
            if (lx->block_depth > 0)
                push_tok(lx, SQL_PUNCT, off, line, col);
            else
                end_stmt(lx);
        } else {
            advance(lx, 1);
            push_tok(lx, SQL_PUNCT, off, line, col);
        }
    }
    end_stmt(lx);
    return 0;
}

int sql_split(const char *text, size_t len, struct sql_script *out, struct otap_err *err)
{
    struct sql_script s = SQL_SCRIPT_INIT;
    struct lexer lx = {.s = text, .len = len, .line = 1, .col = 1, .out = &s};
    int rc = lex(&lx, err);
    if (rc < 0) {
        sql_script_release(&s);
        return rc;
    }
    *out = s;
    return 0;
}

void sql_script_release(struct sql_script *s)
{
    if (!s)
        return;
    free(s->toks);
    free(s->stmts);
    free(s->comments);
    *s = (struct sql_script)SQL_SCRIPT_INIT;
}

int sql_line_of(const char *text, size_t len, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        if (text[i] == '\n')
            line++;
    return line;
}

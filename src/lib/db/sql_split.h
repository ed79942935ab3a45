/*
 * SQL scripts cut into statements, with every token's line and column.
 *
 * Migrations are run statement by statement (so a failure names its
 * statement) and linted token by token, so both need the statements and
 * lines exactly right: a ';' inside a string, a quoted identifier, a
 * comment (block comments nest, as in PostgreSQL) or a dollar-quoted
 * function body does not end a statement; neither does one inside a
 * BEGIN ... END body of a CREATE statement (SQLite triggers, PostgreSQL's
 * BEGIN ATOMIC). Strings: '...' with '' doubling, E'...' with backslash
 * escapes, $tag$...$tag$. Identifiers: words (which may contain '$') and
 * "..." or `...` quoted.
 *
 * The script borrows nothing after sql_split() returns: offsets point into
 * the text the caller passed and keeps alive.
 */
#ifndef OTAP_SQL_SPLIT_H
#define OTAP_SQL_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

enum sql_tok_kind {
    SQL_WORD,   /* keyword or bare identifier */
    SQL_QIDENT, /* "quoted" identifier; text includes the quotes */
    SQL_STRING, /* any string literal, dollar-quoted ones included */
    SQL_NUMBER,
    SQL_PUNCT, /* one character: ( ) , . ; and operators */
};

struct sql_tok {
    enum sql_tok_kind kind;
    size_t off, len;
    int line, col;
};

struct sql_stmt {
    size_t off, len;  /* from its first token to its last, the ';' excluded */
    int line, col;    /* of the first token */
    int end_line;     /* of the last token */
    size_t tok, ntok; /* its tokens: script->toks[tok .. tok + ntok) */
};

struct sql_comment {
    size_t off, len; /* the whole comment, markers included */
    int line, col;
    bool block;
};

struct sql_script {
    struct sql_tok *toks;
    size_t ntoks, toks_alloc;
    struct sql_stmt *stmts;
    size_t nstmts, stmts_alloc;
    struct sql_comment *comments;
    size_t ncomments, comments_alloc;
};

#define SQL_SCRIPT_INIT                                                                            \
    {                                                                                              \
        0                                                                                          \
    }

/*
 * Splits text[0..len). On malformed input (an unterminated string,
 * quoted identifier, dollar quote or block comment) returns OTAP_EINVALID
 * with "LINE:COL: message" in err, and the script is left empty.
 */
int sql_split(const char *text, size_t len, struct sql_script *out, struct otap_err *err);
void sql_script_release(struct sql_script *s);

/* Is token t the word w (ASCII case-insensitive)? */
bool sql_tok_is(const char *text, const struct sql_tok *t, const char *w);

/* The 1-based line of byte offset off in text (counting '\n'). */
int sql_line_of(const char *text, size_t len, size_t off);

#endif

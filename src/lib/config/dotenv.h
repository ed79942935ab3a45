/*
 * Dotenv files: a real parser, not a line split.
 *
 * Syntax (one documented dialect, close to python-dotenv and compose):
 *   - blank lines and lines starting with '#' are ignored; CRLF line ends
 *     and a UTF-8 BOM are accepted; the text must be valid UTF-8
 *   - KEY=VALUE, optionally "export KEY=VALUE"; spaces around '=' allowed;
 *     KEY is [A-Za-z_][A-Za-z0-9_]*
 *   - unquoted values end at the line end or at " #" (a comment), and are
 *     trimmed; 'single quoted' values are literal; "double quoted" values
 *     know \n \t \r \" \\ \$; both quoted forms may span lines
 *   - ${NAME} and ${NAME:-default} are interpolated in unquoted and double
 *     quoted values, never in single quoted ones; '$' followed by anything
 *     else is literal
 *
 * dotenv_parse() keeps a value as parts (literal text and references) so
 * interpolation can be done later against every layer (dotenv_expand).
 * Malformed lines are reported as FILE:LINE: message, all of them; the
 * entries that did parse are still returned. Duplicate keys are warned
 * about, naming both lines; the last one wins.
 */
#ifndef OTAP_DOTENV_H
#define OTAP_DOTENV_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"

enum dotenv_part_kind { DOTENV_LITERAL, DOTENV_REF };

struct dotenv_part {
    enum dotenv_part_kind kind;
    char *text; /* the literal text, or the referenced name */
    char *def;  /* ${NAME:-def}: the default, or NULL */
};

enum dotenv_quote { DOTENV_UNQUOTED, DOTENV_SINGLE, DOTENV_DOUBLE };

struct dotenv_entry {
    char *key;
    struct dotenv_part *parts;
    size_t nparts, alloc;
    enum dotenv_quote quote;
    int line;
};

struct dotenv {
    char *file;
    struct dotenv_entry *items;
    size_t n, alloc;
};

/* Largest dotenv file otap reads. */
#define DOTENV_MAX_BYTES (1u << 20)

/* Parses data (need not be NUL-terminated); diagnostics go to diags. */
void dotenv_parse(struct dotenv *out, const char *data, size_t len, const char *file,
                  struct diag_list *diags);
/*
 * Reads and parses path. Returns 0; 1 when the file does not exist (out is
 * then empty); -1 when it cannot be read (reported in diags).
 */
int dotenv_load(struct dotenv *out, const char *path, struct diag_list *diags);
void dotenv_release(struct dotenv *d);

/* The last entry for key, or NULL. */
const struct dotenv_entry *dotenv_get(const struct dotenv *d, const char *key);

/* Does the entry need interpolation (has a reference)? */
bool dotenv_entry_has_refs(const struct dotenv_entry *e);

/*
 * Interpolation: lookup(name, ctx) returns the value of a referenced
 * variable, or NULL when it is unset. Returns the expanded value (caller
 * frees) or NULL when a reference without a default is unset; *missing
 * then names it (points into the entry).
 */
typedef const char *(*dotenv_lookup_fn)(const char *name, void *ctx);
char *dotenv_expand(const struct dotenv_entry *e, dotenv_lookup_fn lookup, void *ctx,
                    const char **missing);

/* True when s is a valid variable name for dotenv and the environment. */
bool dotenv_valid_key(const char *s, size_t len);

#endif

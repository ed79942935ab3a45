/*
 * A resolved set of environment variables built from layers, each value
 * remembering where it came from.
 *
 * Layers are given strongest first; the process environment, when given,
 * is stronger than every file. ${NAME} references in dotenv values are
 * resolved against the merged set (so a value in .env.local may use one
 * from .env), after merging; an unset reference without a default, or a
 * cycle, leaves that variable unresolved (value NULL) and is reported
 * against the file and line it was written on.
 *
 * The set owns its strings. Values may be secrets: nothing here prints,
 * and callers pass values through redaction before showing them.
 */
#ifndef OTAP_ENVSET_H
#define OTAP_ENVSET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "config/dotenv.h"

enum envvar_origin {
    ORIGIN_PROCESS, /* the process environment */
    ORIGIN_FILE,    /* a dotenv file: file and line */
    ORIGIN_DEFAULT, /* the contract's default */
    ORIGIN_BUILT,   /* made by otap (the database URL from its parts, ENVIRONMENT) */
};

struct envvar {
    char *name;
    char *value; /* NULL: set, but could not be resolved */
    enum envvar_origin origin;
    char *file;                       /* ORIGIN_FILE */
    int line;                         /* ORIGIN_FILE */
    const struct dotenv_entry *entry; /* ORIGIN_FILE, until resolved; borrowed */
    int state;                        /* resolution: 0 pending, 1 in progress, 2 done */
};

struct envset {
    struct envvar *items;
    size_t n, alloc;
};

/*
 * Builds the set from layers[0..nlayers) (strongest first; the dotenvs
 * must outlive this call only) and process (NULL-terminated "K=V"
 * strings, may be NULL). Resolution problems go to diags.
 */
void envset_build(struct envset *out, struct dotenv *const *layers, size_t nlayers,
                  char *const *process, struct diag_list *diags);
void envset_release(struct envset *s);

struct envvar *envset_find(const struct envset *s, const char *name);
/* Sets (replacing) a variable; value is copied. */
struct envvar *envset_put(struct envset *s, const char *name, const char *value,
                          enum envvar_origin origin, const char *file, int line);
void envset_remove(struct envset *s, const char *name);

/* "process", "FILE:LINE", "default" or "otap"; caller frees. */
char *envvar_source(const struct envvar *v);

#endif

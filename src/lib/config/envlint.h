/*
 * Finding environment reads in source code: the seeds' "no new env vars
 * without review" as a gate. One PCRE2 pattern recognises the common
 * forms: getenv("X") (C, C++, PHP), os.Getenv/os.LookupEnv("X") (Go),
 * os.environ["X"], os.environ.get("X"), os.getenv("X") (Python),
 * process.env.X, process.env["X"], import.meta.env.X (JavaScript and
 * TypeScript), ENV["X"] and ENV.fetch("X") (Ruby).
 *
 * Also environ.get/setdefault/pop and "X" in environ (after "from os import
 * environ"), const { X, Y } = process.env, and pydantic BaseSettings fields.
 * Reads with a computed name (getenv(name), process.env[key]) cannot be
 * checked against the contract: they are listed as unresolved, never
 * counted as in it.
 */
#ifndef OTAP_ENVLINT_H
#define OTAP_ENVLINT_H

#include <stddef.h>

#include "base/err.h"

struct envlint_hit {
    char *file;
    int line, col;
    char *name;
};

struct envlint {
    struct envlint_hit *items;
    size_t n, alloc;
    /* reads whose name is computed: name is the read as written (os.environ.get(key)) */
    struct envlint_hit *unresolved;
    size_t nunresolved, unresolved_alloc;
    size_t files;   /* files read */
    size_t skipped; /* binary or too large */
};

/*
 * Scans each path (a file, or a directory walked recursively, leaving out
 * .git, node_modules, build output and virtualenvs) and appends every
 * literal environment read. Returns 0, or OTAP_EEXTERNAL when a path
 * cannot be read at all.
 */
int envlint_scan(const char *const *paths, size_t npaths, struct envlint *out,
                 struct otap_err *err);
/* Scans one buffer; file is the name recorded in hits. */
void envlint_scan_buffer(const char *data, size_t len, const char *file, struct envlint *out);
/*
 * The same over many buffers with the patterns compiled once (compiling
 * them costs more than scanning a small file); NULL when they cannot be.
 */
struct envlint_matcher;
struct envlint_matcher *envlint_matcher_new(void);
void envlint_scan_with(struct envlint_matcher *m, const char *data, size_t len, const char *file,
                       struct envlint *out);
void envlint_matcher_free(struct envlint_matcher *m);
void envlint_release(struct envlint *l);

/*
 * The settings a Python file's pydantic BaseSettings classes read: each
 * annotated field at the class's top level, named by its alias or
 * validation_alias when it has a literal one, under the model's
 * env_prefix, in upper case (pydantic matches names in any case unless
 * case_sensitive). A computed alias (AliasChoices, AliasPath) is
 * unresolved. Appends to out (envlint_pydantic.c).
 */
void envlint_pydantic(const char *data, size_t len, const char *file, struct envlint *out);

/* Variables a program may read without the contract naming them (PATH, HOME...). */
int envlint_is_system_var(const char *name);

#endif

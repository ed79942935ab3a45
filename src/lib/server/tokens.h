/*
 * API tokens for 'otap serve': a name, a role and the SHA-256 of the
 * token. The token itself is shown once, when it is made, and never
 * stored: a leaked tokens file gives an attacker hashes of 256-bit random
 * strings, which is nothing. Lookups compare hashes in constant time.
 *
 * The file holds one token per line, "NAME ROLE SHA256HEX [env=ENV]" (a
 * token scoped to one environment acts only there), '#' comments,
 * and is written 0600 through fileio (whole or not at all).
 */
#ifndef OTAP_TOKENS_H
#define OTAP_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "base/err.h"
#include "base/sha256.h"

enum role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_DEPLOYER = 2, ROLE_ADMIN = 3 };

struct token {
    char *name;
    enum role role;
    char *env; /* the one environment it may act on, or NULL: any */
    char hash[SHA256_HEX_LEN + 1];
};

struct tokens {
    struct token *items;
    size_t n, alloc;
};

const char *role_name(enum role r);
/* "viewer", "deployer", "admin" → the role; ROLE_NONE when not one. */
enum role role_parse(const char *s);

/* Loads path; a missing file is an empty set. Problems go to diags (with lines). */
int tokens_load(struct tokens *t, const char *path, struct diag_list *diags, struct otap_err *err);
int tokens_save(const struct tokens *t, const char *path, struct otap_err *err);
void tokens_release(struct tokens *t);

/*
 * Makes a new token for name with role, adds its hash to t and returns
 * the token (caller shows it once, wipes and frees it). OTAP_EREFUSED
 * when the name is taken.
 */
int tokens_add(struct tokens *t, const char *name, enum role role, const char *env, char **token,
               struct otap_err *err);
bool tokens_remove(struct tokens *t, const char *name);

/* The token a bearer presented: its entry, or NULL. Constant time per entry. */
const struct token *tokens_verify(const struct tokens *t, const char *presented);

#endif

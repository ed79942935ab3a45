/*
 * The one redaction everything passes through before it is printed,
 * logged, stored in the ledger or sent by the API.
 *
 * Two layers:
 *
 *  - redact_text() hides what looks like a credential, knowing nothing
 *    of this project: the password in a URL's user-info (scheme://u:PASS@h,
 *    also when PASS holds unencoded '/', '@', '?', '#' or ':'; the user-info
 *    runs to the last '@' of the URL), the value of KEY=VALUE, KEY: VALUE,
 *    --key=value and --key VALUE where the key names a password, secret,
 *    token or key (so "host=db password=x" and "?password=x&" too).
 *
 *  - a struct redactor knows this project's actual secrets (registered
 *    from the config: secret-typed values, URL passwords, POSTGRES_PASSWORD
 *    and the like) and hides every occurrence of each, in the forms output
 *    can take (as is, percent-encoded, percent-decoded, JSON-escaped), and
 *    of every 6-byte piece of one, so that a message quoting part of a
 *    secret (a driver's error splitting a URL at a '/') leaks no part of it.
 *
 * Hidden text becomes "***": never a prefix or a length, which would leak
 * part of the secret.
 */
#ifndef OTAP_REDACT_H
#define OTAP_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDACTED "***"

/* Secrets shorter than this are not registered: they cannot be told from ordinary text. */
#define REDACT_MIN_SECRET 6
/* Any piece of a registered secret this long is hidden. */
#define REDACT_PIECE 6

/* Returns a newly allocated, redacted copy of s. */
char *redact_text(const char *s);
/*
 * Only the rules that need no name to judge by: a URL's password and
 * password=VALUE. For text of any kind (help, JSON, logs), where "--token
 * FILE" is documentation, not a secret.
 */
char *redact_credentials(const char *s);

/* Does a variable or option name suggest it holds a secret? */
bool redact_name_is_secret(const char *name, int len);

struct redactor {
    char **secrets; /* every form of every registered secret */
    size_t n, alloc;
    uint64_t *grams; /* the sorted REDACT_PIECE-byte pieces of all of them */
    size_t ngrams, grams_alloc;
};

#define REDACTOR_INIT                                                                              \
    {                                                                                              \
        NULL, 0, 0, NULL, 0, 0                                                                     \
    }

/* Registers a secret value and its encoded forms. Short values are ignored. */
void redactor_add(struct redactor *r, const char *value);
/*
 * Registers the secrets inside a config value: a URL's password (as the
 * user-info between the first ':' and the last '@'), password=... in a
 * query string or a libpq keyword string.
 */
void redactor_add_from_value(struct redactor *r, const char *value);
/*
 * redact_credentials() and then every registered secret and piece of one hidden,
 * over len bytes of s (which may hold NULs). Returns a new string; *outlen
 * (may be NULL) gets its length. r may be NULL.
 */
char *redactor_apply(const struct redactor *r, const char *s, size_t len, size_t *outlen);
void redactor_release(struct redactor *r);

#endif

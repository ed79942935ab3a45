/*
 * The one redaction function everything passes text through before it is
 * printed or logged. It hides what looks like a credential: the password
 * in a URL's user-info (postgres://u:PASS@h), and the value of
 * KEY=VALUE / --key=value / --key VALUE where the key names a password,
 * secret, token or key. Redacted values become "***": never a prefix or
 * a length, which would leak part of the secret.
 */
#ifndef OTAP_REDACT_H
#define OTAP_REDACT_H

#include <stdbool.h>

#define REDACTED "***"

/* Returns a newly allocated, redacted copy of s. */
char *redact_text(const char *s);

/* Does a variable or option name suggest it holds a secret? */
bool redact_name_is_secret(const char *name, int len);

#endif

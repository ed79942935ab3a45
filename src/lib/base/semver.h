/*
 * SemVer 2.0.0: is it one, which comes first, and its parts.
 *
 * A leading "v" is accepted (tags carry one); it is never part of the
 * version itself. Build metadata ("+...") does not take part in
 * precedence, as the specification says.
 */
#ifndef OTAP_SEMVER_H
#define OTAP_SEMVER_H

#include <stdbool.h>

struct semver {
    unsigned long long major, minor, patch;
    char *pre;   /* "rc.1", or NULL */
    char *build; /* "sha.abc", or NULL */
};

bool semver_valid(const char *s);
/* -1, 0, 1 by SemVer precedence (both valid). */
int semver_cmp(const char *a, const char *b);
/* 0, or -1 when s is not SemVer (or a number does not fit in 64 bits). */
int semver_parse(const char *s, struct semver *out);
/* "1.2.3-rc.1+b": owned by the caller. */
char *semver_format(const struct semver *v);
void semver_release(struct semver *v);

#endif

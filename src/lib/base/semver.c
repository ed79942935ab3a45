/*
 * SemVer 2.0.0 (https://semver.org): validation, precedence, and the
 * three numbers and pre-release of a version, for builds and releases.
 * A leading "v" is accepted everywhere, as tags carry one.
 */
#include "base/semver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

/* digits without a leading zero (unless "0"); for numeric identifiers */
static bool numeric_ident(const char *s, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n == 1 || s[0] != '0';
}

static bool ident_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* dot-separated identifiers; numeric ones without leading zeros when strict */
static bool idents(const char *s, size_t n, bool strict)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            size_t len = i - start;
            if (!len)
                return false;
            bool digits = true;
            for (size_t k = start; k < i; k++)
                digits &= s[k] >= '0' && s[k] <= '9';
            if (strict && digits && !numeric_ident(s + start, len))
                return false;
            start = i + 1;
        } else if (!ident_char(s[i])) {
            return false;
        }
    }
    return true;
}

bool semver_valid(const char *s)
{
    if (*s == 'v')
        s++;
    const char *p = s;
    for (int part = 0; part < 3; part++) {
        size_t n = strspn(p, "0123456789");
        if (!numeric_ident(p, n))
            return false;
        p += n;
        if (part < 2 && *p++ != '.')
            return false;
    }
    if (*p == '-') {
        size_t n = strcspn(p + 1, "+");
        if (!idents(p + 1, n, true))
            return false;
        p += 1 + n;
    }
    if (*p == '+') {
        size_t n = strlen(p + 1);
        if (!idents(p + 1, n, false))
            return false;
        p += 1 + n;
    }
    return *p == '\0';
}

static int cmp_num(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return an < bn ? -1 : 1;
    int c = memcmp(a, b, an);
    return c < 0 ? -1 : c > 0;
}

int semver_cmp(const char *a, const char *b)
{
    if (*a == 'v')
        a++;
    if (*b == 'v')
        b++;
    for (int part = 0; part < 3; part++) {
        size_t an = strspn(a, "0123456789"), bn = strspn(b, "0123456789");
        int c = cmp_num(a, an, b, bn);
        if (c)
            return c;
        a += an + (part < 2);
        b += bn + (part < 2);
    }
    bool apre = *a == '-', bpre = *b == '-';
    if (!apre || !bpre)
        return apre == bpre ? 0 : apre ? -1 : 1; /* a pre-release sorts before its release */
    a++, b++;
    for (;;) {
        size_t an = strcspn(a, ".+"), bn = strcspn(b, ".+");
        bool ad = strspn(a, "0123456789") == an, bd = strspn(b, "0123456789") == bn;
        int c;
        if (ad && bd)
            c = cmp_num(a, an, b, bn);
        else if (ad != bd)
            c = ad ? -1 : 1;
        else {
            c = strncmp(a, b, an < bn ? an : bn);
            c = c ? (c < 0 ? -1 : 1) : an == bn ? 0 : an < bn ? -1 : 1;
        }
        if (c)
            return c;
        a += an, b += bn;
        bool amore = *a == '.', bmore = *b == '.';
        if (!amore || !bmore)
            return amore == bmore ? 0 : amore ? 1 : -1;
        a++, b++;
    }
}

int semver_parse(const char *s, struct semver *out)
{
    memset(out, 0, sizeof(*out));
    if (!semver_valid(s))
        return -1;
    if (*s == 'v')
        s++;
    unsigned long long *part[3] = {&out->major, &out->minor, &out->patch};
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        *part[i] = strtoull(s, &end, 10);
        if (errno)
            return -1; /* beyond 2^64: valid SemVer, but no release of ours */
        s = end + (i < 2);
    }
    if (*s == '-') {
        size_t n = strcspn(s + 1, "+");
        out->pre = xstrndup(s + 1, n);
        s += 1 + n;
    }
    if (*s == '+')
        out->build = xstrdup(s + 1);
    return 0;
}

char *semver_format(const struct semver *v)
{
    return xasprintf("%llu.%llu.%llu%s%s%s%s", v->major, v->minor, v->patch, v->pre ? "-" : "",
                     v->pre ? v->pre : "", v->build ? "+" : "", v->build ? v->build : "");
}

void semver_release(struct semver *v)
{
    free(v->pre);
    free(v->build);
    v->pre = v->build = NULL;
}

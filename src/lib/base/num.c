/*
 * Number parsing that rejects what strtol would silently accept ("12abc",
 * "", overflow), so that a typo in a manifest or a flag is an error.
 */
#include "base/num.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "base/banned.h"

int num_parse_ll(const char *s, long long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int num_parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int num_parse_duration(const char *s, long long *out)
{
    if (!s || !*s)
        return -1;
    long long total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        long long n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n > (LLONG_MAX - 9) / 10)
                return -1;
            n = n * 10 + (*p++ - '0');
        }
        long long unit;
        switch (*p) {
        case '\0':
            /* a bare number is seconds, but only on its own */
            if (p != s && total)
                return -1;
            unit = 1;
            break;
        case 's':
            unit = 1;
            p++;
            break;
        case 'm':
            unit = 60;
            p++;
            break;
        case 'h':
            unit = 3600;
            p++;
            break;
        case 'd':
            unit = 86400;
            p++;
            break;
        default:
            return -1;
        }
        if (n > (LLONG_MAX - total) / unit)
            return -1;
        total += n * unit;
    }
    *out = total;
    return 0;
}

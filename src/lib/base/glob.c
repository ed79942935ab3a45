/*
 * Path globs with '**' (glob.h). fnmatch(3) has no '**', so segments are
 * matched here and a character class is left to fnmatch on one character.
 */
#include "base/glob.h"

#include <fnmatch.h>
#include <string.h>

#include "base/banned.h"

/* The class at p ("[a-z]..."), matched against c; *end is after its ']'. */
static bool class_match(const char *p, char c, const char **end)
{
    const char *q = p + 1;
    if (*q == '!' || *q == '^')
        q++;
    if (*q == ']')
        q++; /* a ']' first in the class is one of its characters */
    const char *close = *q ? strchr(q, ']') : NULL;
    if (!close) {
        *end = p + 1; /* no class: a literal '[' */
        return c == '[';
    }
    char pat[256], str[2] = {c, '\0'};
    size_t n = (size_t)(close - p) + 1;
    if (n >= sizeof pat)
        n = sizeof pat - 1;
    memcpy(pat, p, n);
    pat[n] = '\0';
    *end = close + 1;
    return fnmatch(pat, str, 0) == 0;
}

bool glob_match(const char *p, const char *s)
{
    while (*p) {
        if (p[0] == '*' && p[1] == '*') {
            p += 2;
            bool slash = *p == '/';
            if (slash)
                p++;
            /* zero or more whole segments: here, or after each '/' further on */
            for (const char *t = s;; t++) {
                if ((t == s || t[-1] == '/' || !slash) && glob_match(p, t))
                    return true;
                if (!*t)
                    return false;
            }
        }
        if (*p == '*') {
            p++;
            for (const char *t = s;; t++) {
                if (glob_match(p, t))
                    return true;
                if (!*t || *t == '/')
                    return false;
            }
        }
        if (!*s)
            return false;
        if (*p == '?') {
            if (*s == '/')
                return false;
        } else if (*p == '[') {
            const char *end;
            if (*s == '/' || !class_match(p, *s, &end))
                return false;
            p = end;
            s++;
            continue;
        } else if (*p != *s) {
            return false;
        }
        p++;
        s++;
    }
    return !*s;
}

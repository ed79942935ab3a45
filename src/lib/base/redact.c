/*
 * Redaction of secrets in free text (command lines, error messages, URLs),
 * kept in one place so there is one thing to test and to trust.
 */
#include "base/redact.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "base/strbuf.h"
#include "base/banned.h"

static const char *const secret_words[] = {"pass", "pwd",        "secret",  "token", "key",
                                           "auth", "credential", "private", NULL};

bool redact_name_is_secret(const char *name, int len)
{
    for (int i = 0; secret_words[i]; i++) {
        size_t wl = strlen(secret_words[i]);
        for (int j = 0; j + (int)wl <= len; j++)
            if (!strncasecmp(name + j, secret_words[i], wl))
                return true;
    }
    return false;
}

static bool is_name_char(int c)
{
    return isalnum(c) || c == '_' || c == '-' || c == '.';
}

/* Length of a URL's "scheme://" prefix at p, or 0. */
static size_t scheme_len(const char *s, const char *p)
{
    if (strncmp(p, "://", 3))
        return 0;
    const char *b = p;
    while (b > s && (isalnum((unsigned char)b[-1]) || b[-1] == '+' || b[-1] == '.' || b[-1] == '-'))
        b--;
    return b < p ? 3 : 0;
}

char *redact_text(const char *s)
{
    struct strbuf out = STRBUF_INIT;
    const char *p = s;
    bool hide_next_word = false;
    while (*p) {
        if (hide_next_word && !isspace((unsigned char)*p)) {
            while (*p && !isspace((unsigned char)*p))
                p++;
            strbuf_addstr(&out, REDACTED);
            hide_next_word = false;
            continue;
        }
        /* user-info of a URL: scheme://user:password@host */
        if (scheme_len(s, p)) {
            strbuf_add(&out, p, 3);
            p += 3;
            const char *at = p;
            while (*at && *at != '@' && *at != '/' && !isspace((unsigned char)*at))
                at++;
            const char *colon = memchr(p, ':', (size_t)(at - p));
            if (*at == '@' && colon) {
                strbuf_add(&out, p, (size_t)(colon - p) + 1);
                strbuf_addstr(&out, REDACTED);
                p = at;
            }
            continue;
        }
        if (is_name_char((unsigned char)*p) && (p == s || !is_name_char((unsigned char)p[-1]))) {
            const char *start = p;
            while (is_name_char((unsigned char)*p))
                p++;
            int len = (int)(p - start);
            strbuf_add(&out, start, (size_t)len);
            bool secret = redact_name_is_secret(start, len);
            if (secret && (*p == '=' || *p == ':') && p[1] && !isspace((unsigned char)p[1]) &&
                strncmp(p, "://", 3)) {
                strbuf_addch(&out, *p++);
                const char quote = (*p == '"' || *p == '\'') ? *p : 0;
                if (quote)
                    strbuf_addch(&out, *p++);
                while (*p && (quote ? *p != quote : !isspace((unsigned char)*p)))
                    p++;
                strbuf_addstr(&out, REDACTED);
            } else if (secret && start[0] == '-' && *p == ' ') {
                /* --password VALUE */
                hide_next_word = true;
            }
            continue;
        }
        strbuf_addch(&out, *p++);
    }
    return strbuf_detach(&out, NULL);
}

/*
 * Redaction of secrets in free text (command lines, error messages, URLs,
 * JSON), kept in one place so there is one thing to test and to trust.
 */
#include "base/redact.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
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

/*
 * words: also the KEY=VALUE and --key VALUE rules, which judge by a name
 * and so belong to text known to be a command line or an environment;
 * without it only what is a credential wherever it stands is hidden (a
 * URL's password, password=...).
 */
static char *redact(const char *s, bool words)
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
        /*
         * user-info of a URL: scheme://user:password@host. A password may
         * hold unencoded '/', '@', '?', '#' and ':' (users paste them so):
         * the user-info runs from after "://" to the last '@' of the URL
         * (which ends at white space or a quote), and the password from its
         * first ':'. Hiding too much of an odd URL is the safe mistake.
         */
        if (scheme_len(s, p)) {
            strbuf_add(&out, p, 3);
            p += 3;
            const char *end = p;
            while (*end && !isspace((unsigned char)*end) && *end != '"' && *end != '\'' &&
                   *end != '<' && *end != '>')
                end++;
            const char *at = NULL;
            for (const char *q = p; q < end; q++)
                if (*q == '@')
                    at = q;
            const char *colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
            if (colon) {
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
            /* without words: NAME=VALUE where NAME ends in "password" (PGPASSWORD=, password=) */
            bool secret = words ? redact_name_is_secret(start, len)
                                : len >= 8 && !strncasecmp(p - 8, "password", 8) && *p == '=';
            if (secret && (*p == '=' || *p == ':') && p[1] && !isspace((unsigned char)p[1]) &&
                strncmp(p, "://", 3)) {
                /* in a query string (?password=x&sslmode=...), the value ends at '&' */
                bool query = start > s && (start[-1] == '?' || start[-1] == '&');
                strbuf_addch(&out, *p++);
                char quote = (*p == '"' || *p == '\'') ? *p : 0;
                /* a quoted value closes on its line; a lone quote is the end of a JSON string */
                if (quote && p[1 + strcspn(p + 1, quote == '"' ? "\"\n" : "'\n")] != quote)
                    quote = 0;
                if (quote)
                    strbuf_addch(&out, *p++);
                const char *v = p;
                /* unquoted, the value also ends at a quote: it may stand inside a JSON string */
                while (*p &&
                       (quote ? *p != quote
                              : !isspace((unsigned char)*p) && *p != '"' && *p != '\'') &&
                       !(query && !quote && *p == '&'))
                    p++;
                if (p > v) /* NAME= with no value hides nothing */
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

char *redact_text(const char *s)
{
    return redact(s, true);
}

char *redact_credentials(const char *s)
{
    return redact(s, false);
}

/* ---- the registry of this project's secrets ------------------------------ */

static uint64_t gram_at(const unsigned char *p)
{
    uint64_t g = 0;
    for (int i = 0; i < REDACT_PIECE; i++)
        g = g << 8 | p[i];
    return g;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool has_secret(const struct redactor *r, const char *v)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->secrets[i], v))
            return true;
    return false;
}

/* One form of a secret: kept whole, and its pieces indexed. */
static void add_form(struct redactor *r, const char *v)
{
    size_t len = strlen(v);
    if (len < REDACT_MIN_SECRET || has_secret(r, v))
        return;
    *XPUSH(&r->secrets, &r->n, &r->alloc) = xstrdup(v);
    for (size_t i = 0; i + REDACT_PIECE <= len; i++)
        *XPUSH(&r->grams, &r->ngrams, &r->grams_alloc) = gram_at((const unsigned char *)v + i);
    qsort(r->grams, r->ngrams, sizeof(uint64_t), cmp_u64);
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

void redactor_add(struct redactor *r, const char *value)
{
    if (!value || strlen(value) < REDACT_MIN_SECRET)
        return;
    add_form(r, value);
    /* percent-decoded: a URL's password as the user meant it */
    struct strbuf dec = STRBUF_INIT;
    for (const char *p = value; *p; p++) {
        int hi, lo;
        if (*p == '%' && (hi = hexval((unsigned char)p[1])) >= 0 &&
            (lo = hexval((unsigned char)p[2])) >= 0) {
            strbuf_addch(&dec, (char)(hi << 4 | lo));
            p += 2;
        } else {
            strbuf_addch(&dec, *p);
        }
    }
    if (strcmp(dec.buf, value))
        add_form(r, dec.buf);
    /* percent-encoded: as it stands in a URL another tool built */
    struct strbuf enc = STRBUF_INIT;
    for (const unsigned char *p = (const unsigned char *)dec.buf; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p))
            strbuf_addch(&enc, (char)*p);
        else
            strbuf_addf(&enc, "%%%02X", *p);
    }
    add_form(r, enc.buf);
    /* JSON-escaped, as --json and the API print it (quotes, backslashes, \uXXXX) */
    const char *forms[] = {value, dec.buf};
    for (size_t i = 0; i < 2; i++) {
        json_t *js = json_string(forms[i]);
        char *d = js ? json_dumps(js, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
        if (d && strlen(d) >= 2) {
            d[strlen(d) - 1] = '\0';
            add_form(r, d + 1);
        }
        free(d);
        json_decref(js);
    }
    strbuf_release(&enc);
    strbuf_release(&dec);
}

void redactor_add_from_value(struct redactor *r, const char *value)
{
    if (!value)
        return;
    const char *sep = strstr(value, "://");
    if (sep) {
        /* the value is the URL: its user-info runs to its last '@', whatever it holds */
        const char *u = sep + 3;
        const char *end = u + strlen(u);
        const char *at = NULL;
        for (const char *q = u; q < end; q++)
            if (*q == '@')
                at = q;
        const char *colon = at ? memchr(u, ':', (size_t)(at - u)) : NULL;
        if (colon) {
            char *pw = xstrndup(colon + 1, (size_t)(at - colon - 1));
            redactor_add(r, pw);
            explicit_bzero(pw, strlen(pw));
            free(pw);
        }
    }
    /* password=... in a query string or a libpq keyword string */
    for (const char *p = value; (p = strcasestr(p, "password=")); p += 9) {
        const char *v = p + 9;
        char quote = *v == '\'' ? *v++ : 0;
        size_t n = quote ? strcspn(v, "'") : strcspn(v, "& \t");
        char *pw = xstrndup(v, n);
        redactor_add(r, pw);
        explicit_bzero(pw, n);
        free(pw);
    }
}

char *redactor_apply(const struct redactor *r, const char *s, size_t len, size_t *outlen)
{
    /* the structural pass works on text: NULs (rare in output) end it */
    char *text = xstrndup(s, len);
    char *structural = redact_credentials(text);
    explicit_bzero(text, strlen(text));
    free(text);
    size_t n = strlen(structural);
    if (!r || !r->n) {
        if (outlen)
            *outlen = n;
        return structural;
    }
    const unsigned char *u = (const unsigned char *)structural;
    unsigned char *hide = xcalloc(n + 1, 1);
    for (size_t i = 0; i + REDACT_PIECE <= n; i++) {
        uint64_t g = gram_at(u + i);
        if (bsearch(&g, r->grams, r->ngrams, sizeof(uint64_t), cmp_u64))
            memset(hide + i, 1, REDACT_PIECE);
    }
    struct strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < n;) {
        if (hide[i]) {
            while (i < n && hide[i])
                i++;
            strbuf_addstr(&out, REDACTED);
        } else {
            strbuf_addch(&out, structural[i++]);
        }
    }
    free(hide);
    explicit_bzero(structural, n);
    free(structural);
    if (outlen)
        *outlen = out.len;
    return strbuf_detach(&out, NULL);
}

void redactor_release(struct redactor *r)
{
    for (size_t i = 0; i < r->n; i++)
        explicit_bzero(r->secrets[i], strlen(r->secrets[i]));
    xfree_strv(r->secrets, r->n);
    if (r->grams)
        explicit_bzero(r->grams, r->ngrams * sizeof(uint64_t));
    free(r->grams);
    memset(r, 0, sizeof(*r));
}

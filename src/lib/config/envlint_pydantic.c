/*
 * pydantic BaseSettings classes (envlint.h): a settings class reads one
 * environment variable per annotated field, which no getenv() in the code
 * shows. Read line by line, by indentation, as Python itself groups the
 * class body:
 *
 *   class Settings(BaseSettings):
 *       model_config = SettingsConfigDict(env_prefix="APP_")
 *       SECRET_KEY: str                                  -> APP_SECRET_KEY
 *       db: str = Field(validation_alias="DATABASE_URL") -> DATABASE_URL
 *       @property
 *       def url(self) -> str: ...                        (not a setting)
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/envlint.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct line {
    const char *text; /* its first non-blank character */
    size_t len;       /* from text to the end of the line */
    int indent;       /* columns of leading blanks, a tab to the next multiple of 8 */
    int col;          /* 1-based byte column of text */
    int no;           /* 1-based */
    bool code;        /* not blank, not a comment */
};

static size_t split_lines(const char *data, size_t len, struct line **out)
{
    size_t n = 0, alloc = 0;
    struct line *lines = NULL;
    int no = 1;
    for (size_t at = 0; at < len; no++) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - data) : len;
        size_t i = at;
        int indent = 0;
        while (i < end && (data[i] == ' ' || data[i] == '\t')) {
            indent += data[i] == '\t' ? 8 - indent % 8 : 1;
            i++;
        }
        struct line *l = XPUSH(&lines, &n, &alloc);
        *l = (struct line){data + i,          end - i, indent,
                           (int)(i - at) + 1, no,      i < end && data[i] != '#'};
        at = end + 1;
    }
    *out = lines;
    return n;
}

static bool starts(const struct line *l, const char *word)
{
    size_t k = strlen(word);
    return l->len >= k && !strncmp(l->text, word, k);
}

/* Does the line hold needle (within the line)? Returns where, or NULL. */
static const char *find(const struct line *l, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= l->len; i++)
        if (!strncmp(l->text + i, needle, k))
            return l->text + i;
    return NULL;
}

static bool is_settings_class(const struct line *l)
{
    if (!starts(l, "class ") || !find(l, "BaseSettings"))
        return false;
    const char *open = find(l, "(");
    return open && find(l, "BaseSettings") > open;
}

/* The string literal after "key" and "=" on the line ("APP_"), or NULL. */
static char *string_after(const struct line *l, const char *key, bool *computed)
{
    const char *at = find(l, key);
    while (at) {
        const char *p = at + strlen(key);
        const char *end = l->text + l->len;
        bool word_start = at == l->text || !(isalnum((unsigned char)at[-1]) || at[-1] == '_');
        while (p < end && *p == ' ')
            p++;
        if (word_start && p < end && *p == '=' && (p + 1 >= end || p[1] != '=')) {
            p++;
            while (p < end && *p == ' ')
                p++;
            if (p < end && (*p == '"' || *p == '\'')) {
                const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
                if (q)
                    return xstrndup(p + 1, (size_t)(q - p - 1));
            }
            if (computed)
                *computed = true;
            return NULL;
        }
        /* look further along the line */
        struct line rest = {at + 1, l->len - (size_t)(at + 1 - l->text), 0, 0, 0, true};
        at = find(&rest, key);
    }
    return NULL;
}

/* An alias otap can check: the characters of a variable name, nothing else. */
static bool variable_name(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

static void add(struct envlint_hit **items, size_t *n, size_t *alloc, const char *file,
                const struct line *l, char *name)
{
    struct envlint_hit *h = XPUSH(items, n, alloc);
    h->file = xstrdup(file);
    h->line = l->no;
    h->col = l->col;
    h->name = name;
}

/* One class body: lines [from, to) at indentation body. */
static void read_class(const struct line *lines, size_t from, size_t to, int body, const char *file,
                       struct envlint *out)
{
    char *prefix = NULL;
    bool case_sensitive = false;
    for (size_t i = from; i < to; i++) {
        if (!lines[i].code)
            continue;
        char *p = string_after(&lines[i], "env_prefix", NULL);
        if (p) {
            free(prefix);
            prefix = p;
        }
        case_sensitive |= find(&lines[i], "case_sensitive") && find(&lines[i], "True");
    }
    for (size_t i = from; i < to; i++) {
        const struct line *l = &lines[i];
        if (!l->code || l->indent != body)
            continue;
        /* NAME: annotation [= default], not NAME := ..., not a method or a decorator */
        size_t k = 0;
        while (k < l->len && (isalnum((unsigned char)l->text[k]) || l->text[k] == '_'))
            k++;
        size_t colon = k;
        while (colon < l->len && l->text[colon] == ' ')
            colon++;
        if (!k || isdigit((unsigned char)l->text[0]) || colon >= l->len || l->text[colon] != ':' ||
            (colon + 1 < l->len && l->text[colon + 1] == '=') || l->text[0] == '_' ||
            starts(l, "model_config") || starts(l, "class ") || starts(l, "def "))
            continue;
        /* an alias names the variable itself; it may sit on the field's continuation lines */
        char *alias = NULL;
        bool computed = false;
        for (size_t j = i; j < to && !alias && !computed; j++) {
            if (j > i && lines[j].code && lines[j].indent <= body)
                break;
            alias = string_after(&lines[j], "validation_alias", &computed);
            if (!alias && !computed)
                alias = string_after(&lines[j], "alias", &computed);
        }
        if (alias && !variable_name(alias)) {
            free(alias);
            alias = NULL;
            computed = true;
        }
        if (computed) {
            char *what = xasprintf("%.*s (a computed alias)", (int)k, l->text);
            add(&out->unresolved, &out->nunresolved, &out->unresolved_alloc, file, l, what);
            continue;
        }
        char *name = alias ? alias : xasprintf("%s%.*s", prefix ? prefix : "", (int)k, l->text);
        if (!alias && !case_sensitive)
            for (char *c = name; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        add(&out->items, &out->n, &out->alloc, file, l, name);
    }
    free(prefix);
}

void envlint_pydantic(const char *data, size_t len, const char *file, struct envlint *out)
{
    if (!memmem(data, len, "BaseSettings", 12))
        return;
    struct line *lines;
    size_t n = split_lines(data, len, &lines);
    for (size_t i = 0; i < n; i++) {
        if (!lines[i].code || !is_settings_class(&lines[i]))
            continue;
        int outer = lines[i].indent, body = -1;
        size_t end = i + 1;
        for (; end < n; end++) {
            if (!lines[end].code)
                continue;
            if (lines[end].indent <= outer)
                break;
            if (body < 0)
                body = lines[end].indent;
        }
        if (body > outer)
            read_class(lines, i + 1, end, body, file, out);
        i = end - 1;
    }
    free(lines);
}

/*
 * Conventional Commits, read and linted (commit_msg.h). The rules and
 * their names are commitlint's conventional preset; their code is ours.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "release/commit_msg.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

const char *const commit_default_types[] = {"build", "chore",    "ci",     "docs",  "feat", "fix",
                                            "perf",  "refactor", "revert", "style", "test", NULL};

const char *commit_kind_name(enum commit_kind k)
{
    static const char *const names[] = {"conventional", "not-conventional", "merge", "revert",
                                        "fixup",        "version"};
    return names[k];
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static bool starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* The lines of the message as git keeps it: no comment lines, nothing below the scissors. */
static void split(const char *text, size_t len, struct commit_msg *m)
{
    size_t alloc = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - at;
        if (n && text[at + n - 1] == '\r')
            n--;
        char *line = xstrndup(text + at, n);
        at = end + 1;
        if (starts(line, "# ------------------------ >8 ------------------------")) {
            free(line);
            break;
        }
        if (line[0] == '#') {
            free(line);
            continue;
        }
        *XPUSH(&m->lines, &m->lines_n, &alloc) = line;
    }
    while (m->lines_n && blank(m->lines[m->lines_n - 1]))
        free(m->lines[--m->lines_n]);
    /* leading blank lines are no header either (git strips them too) */
    size_t lead = 0;
    while (lead < m->lines_n && blank(m->lines[lead]))
        free(m->lines[lead++]);
    if (lead) /* memmove from a NULL list is undefined, even of nothing */
        memmove(m->lines, m->lines + lead, (m->lines_n - lead) * sizeof(char *));
    m->lines_n -= lead;
}

static bool is_version(const char *s)
{
    if (*s == 'v')
        s++;
    for (int part = 0; part < 3; part++) {
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
        if (part < 2 && *s++ != '.')
            return false;
    }
    if (*s == '-' || *s == '+')
        for (s++; *s; s++)
            if (!isalnum((unsigned char)*s) && !strchr(".-+", *s))
                return false;
    return !*s;
}

/* "Token: value" or "Token #value" (git trailers, Conventional Commits footers). */
static bool footer_line(const char *s, size_t *token_len, const char **value)
{
    size_t k = 0;
    if (starts(s, "BREAKING CHANGE"))
        k = 15;
    else
        while (isalnum((unsigned char)s[k]) || s[k] == '-')
            k++;
    if (!k)
        return false;
    if (s[k] == ':' && s[k + 1] == ' ')
        *value = s + k + 2;
    else if (s[k] == ' ' && s[k + 1] == '#')
        *value = s + k + 1;
    else
        return false;
    *token_len = k;
    return true;
}

static void parse_header(struct commit_msg *m)
{
    const char *h = m->header;
    if (starts(h, "Merge ") || starts(h, "Merged ") || starts(h, "Automatic merge") ||
        starts(h, "Auto-merged ")) {
        m->kind = COMMIT_MERGE;
        return;
    }
    if (starts(h, "Revert \"")) {
        m->kind = COMMIT_REVERT;
        return;
    }
    if (starts(h, "fixup! ") || starts(h, "squash! ") || starts(h, "amend! ")) {
        m->kind = COMMIT_FIXUP;
        return;
    }
    if (is_version(h)) {
        m->kind = COMMIT_VERSION;
        return;
    }
    /* type(scope)!: subject, with the type any word (type-enum judges it) */
    const char *p = h;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
        p++;
    size_t tlen = (size_t)(p - h);
    const char *scope = NULL;
    size_t slen = 0;
    if (*p == '(') {
        const char *close = strchr(p, ')');
        if (!close || memchr(p + 1, '(', (size_t)(close - p - 1)))
            goto not_conventional;
        scope = p + 1;
        slen = (size_t)(close - scope);
        p = close + 1;
    }
    bool bang = *p == '!';
    if (bang)
        p++;
    if (p[0] != ':' || p[1] != ' ')
        goto not_conventional;
    m->kind = COMMIT_CONVENTIONAL;
    m->type = xstrndup(h, tlen);
    m->scope = scope ? xstrndup(scope, slen) : NULL;
    m->bang = bang;
    m->breaking = bang;
    p += 2;
    while (*p == ' ')
        p++;
    m->subject = xstrdup(p);
    return;
not_conventional:
    m->kind = COMMIT_NOT_CONVENTIONAL;
}

void commit_msg_parse(const char *text, size_t len, struct commit_msg *out)
{
    memset(out, 0, sizeof(*out));
    split(text, len, out);
    out->header = xstrdup(out->lines_n ? out->lines[0] : "");
    parse_header(out);
    out->body_first = out->footers_first = out->lines_n;
    /* footers: the lines at the end, none blank, each a footer (or a footer's indented
     * continuation), the first of them a footer */
    size_t first = out->lines_n, para = out->lines_n;
    bool run = true; /* still in the trailing run of footers and indented lines */
    for (size_t i = out->lines_n; i > 1; i--) {
        size_t tl;
        const char *v;
        const char *line = out->lines[i - 1];
        if (blank(line))
            break;
        para = i - 1;
        if (run && footer_line(line, &tl, &v))
            first = i - 1;
        else if (!isspace((unsigned char)line[0]))
            run = false;
    }
    /* a last paragraph that starts with a BREAKING CHANGE footer is all footers: the lines
     * that are not one continue the note, as conventional-commits-parser reads it */
    if (para < out->lines_n && (starts(out->lines[para], "BREAKING CHANGE: ") ||
                                starts(out->lines[para], "BREAKING-CHANGE: ")))
        first = para;
    out->footers_first = first;
    struct commit_footer *f = NULL;
    for (size_t i = out->footers_first; i < out->lines_n; i++) {
        size_t tl;
        const char *v;
        if (!footer_line(out->lines[i], &tl, &v)) {
            if (f) {
                /* a continuation: one value, its lines joined by newlines */
                const char *cont = out->lines[i] + strspn(out->lines[i], " \t");
                char *joined = xasprintf("%s\n%s", f->value, cont);
                free(f->value);
                f->value = joined;
            }
            continue;
        }
        f = XPUSH(&out->footers, &out->nfooters, &out->footers_alloc);
        f->token = xstrndup(out->lines[i], tl);
        f->value = xstrdup(v);
        if (!strcmp(f->token, "BREAKING CHANGE") || !strcmp(f->token, "BREAKING-CHANGE"))
            out->breaking = true;
    }
    out->footers_after_blank =
        out->footers_first < out->lines_n && blank(out->lines[out->footers_first - 1]);
    /* the body: the lines between, blank ones at either end left out */
    size_t b = 1, e = out->footers_first;
    while (b < e && blank(out->lines[b]))
        b++;
    while (e > b && blank(out->lines[e - 1]))
        e--;
    if (b < e) {
        out->body_first = b;
        out->body_after_blank = blank(out->lines[1]);
        struct strbuf sb = STRBUF_INIT;
        for (size_t i = b; i < e; i++)
            strbuf_addf(&sb, "%s%s", i > b ? "\n" : "", out->lines[i]);
        out->body = strbuf_detach(&sb, NULL);
    }
}

void commit_msg_release(struct commit_msg *m)
{
    if (!m)
        return;
    free(m->header);
    free(m->type);
    free(m->scope);
    free(m->subject);
    free(m->body);
    for (size_t i = 0; i < m->nfooters; i++) {
        free(m->footers[i].token);
        free(m->footers[i].value);
    }
    free(m->footers);
    for (size_t i = 0; i < m->lines_n; i++)
        free(m->lines[i]);
    free(m->lines);
    memset(m, 0, sizeof(*m));
}

__attribute__((format(printf, 5, 6))) static void problem(struct commit_problems *out,
                                                          enum commit_severity sev,
                                                          const char *rule, int line,
                                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct commit_problem *p = XPUSH(&out->items, &out->n, &out->alloc);
    p->severity = sev;
    p->rule = rule;
    p->line = line;
    p->message = xvasprintf(fmt, ap);
    va_end(ap);
}

static char *lower(const char *s)
{
    char *c = xstrdup(s);
    for (char *p = c; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return c;
}

/* commitlint's cases a subject may not be in: sentence, start, pascal, upper. */
static const char *subject_case(const char *s)
{
    bool letters = false, upper_all = true, spaces = false;
    for (const char *p = s; *p; p++) {
        if (isalpha((unsigned char)*p)) {
            letters = true;
            upper_all &= isupper((unsigned char)*p) != 0;
        }
        spaces |= *p == ' ';
    }
    if (!letters)
        return NULL;
    if (upper_all)
        return "upper-case";
    char *low = lower(s);
    low[0] = (char)toupper((unsigned char)low[0]);
    bool sentence = !strcmp(low, s);
    free(low);
    if (sentence)
        return "sentence-case";
    /* start case: every word capitalised, the rest of it lower case */
    bool start = true, at_word = true;
    for (const char *p = s; *p && start; p++) {
        if (*p == ' ') {
            at_word = true;
            continue;
        }
        if (isalpha((unsigned char)*p))
            start = at_word ? isupper((unsigned char)*p) != 0 : islower((unsigned char)*p) != 0;
        at_word = false;
    }
    if (start && spaces)
        return "start-case";
    if (!spaces && isupper((unsigned char)s[0]) && strchr(s, '-') == NULL && strchr(s, '_') == NULL)
        return "pascal-case";
    return NULL;
}

void commit_lint(const struct commit_msg *m, const struct commit_lint_opts *opts,
                 struct commit_problems *out)
{
    if (m->kind == COMMIT_MERGE || m->kind == COMMIT_REVERT || m->kind == COMMIT_FIXUP ||
        m->kind == COMMIT_VERSION)
        return;
    size_t max = opts && opts->max_line ? opts->max_line : 100;
    const char *const *types = opts && opts->types ? opts->types : commit_default_types;
    const char *h = m->header;
    size_t hl = strlen(h);
    if (!hl) {
        problem(out, COMMIT_ERROR, "subject-empty", 1, "the message is empty");
        return;
    }
    if (hl > max)
        problem(out, COMMIT_ERROR, "header-max-length", 1,
                "the header is %zu characters, more than %zu", hl, max);
    if (isspace((unsigned char)h[0]) || isspace((unsigned char)h[hl - 1]))
        problem(out, COMMIT_ERROR, "header-trim", 1, "the header starts or ends with white space");
    if (m->kind == COMMIT_NOT_CONVENTIONAL) {
        problem(out, COMMIT_ERROR, "type-empty", 1,
                "the header is not 'type(scope): subject' (feat: add a login page)");
        problem(out, COMMIT_ERROR, "subject-empty", 1, "there is no subject after 'type: '");
        return;
    }
    if (!*m->type) {
        problem(out, COMMIT_ERROR, "type-empty", 1, "the type is empty");
    } else {
        char *low = lower(m->type);
        if (strcmp(low, m->type))
            problem(out, COMMIT_ERROR, "type-case", 1, "the type '%s' is not lower case", m->type);
        bool known = false;
        for (size_t i = 0; types[i] && !known; i++)
            known = !strcmp(types[i], m->type);
        if (!known) {
            struct strbuf sb = STRBUF_INIT;
            for (size_t i = 0; types[i]; i++)
                strbuf_addf(&sb, "%s%s", i ? ", " : "", types[i]);
            problem(out, COMMIT_ERROR, "type-enum", 1, "the type '%s' is not one of %s", m->type,
                    sb.buf);
            strbuf_release(&sb);
        }
        free(low);
    }
    if (!m->subject || !*m->subject) {
        problem(out, COMMIT_ERROR, "subject-empty", 1, "the subject is empty");
    } else {
        size_t sl = strlen(m->subject);
        if (m->subject[sl - 1] == '.')
            problem(out, COMMIT_ERROR, "subject-full-stop", 1, "the subject ends with a full stop");
        const char *c = subject_case(m->subject);
        if (c)
            problem(out, COMMIT_ERROR, "subject-case", 1,
                    "the subject is in %s; write it as a sentence fragment in lower case", c);
    }
    if (m->body && !m->body_after_blank)
        problem(out, COMMIT_WARNING, "body-leading-blank", 2,
                "the body should follow the header after a blank line");
    for (size_t i = 1; i < m->lines_n; i++) {
        size_t l = strlen(m->lines[i]);
        if (l <= max)
            continue;
        bool footer = i >= m->footers_first;
        problem(out, COMMIT_ERROR, footer ? "footer-max-line-length" : "body-max-line-length",
                (int)i + 1, "line %zu is %zu characters, more than %zu", i + 1, l, max);
    }
    if (m->footers_first < m->lines_n && !m->footers_after_blank)
        problem(out, COMMIT_WARNING, "footer-leading-blank", (int)m->footers_first + 1,
                "the footers should follow a blank line");
}

size_t commit_problems_errors(const struct commit_problems *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->items[i].severity == COMMIT_ERROR;
    return n;
}

void commit_problems_release(struct commit_problems *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->items[i].message);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

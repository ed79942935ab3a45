/*
 * The config contract applied to real files and a real environment: the
 * seeds' "no config hell" made checkable. One evaluation serves 'otap env
 * check', 'env show' and 'otap run', so what run refuses is exactly what
 * check reports.
 */
#include "config/contract.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/entropy.h"
#include "base/placeholder.h"
#include "base/num.h"
#include "base/redact.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define PROCESS_ENV "environment"

/* ---- values and types ------------------------------------------------- */

double contract_secret_bits(const char *s)
{
    size_t n = strlen(s);
    return entropy_per_byte(s, n) * (double)n;
}

bool contract_is_placeholder(const char *s)
{
    return placeholder_value(s, strlen(s));
}

static bool parse_bool(const char *s)
{
    static const char *const words[] = {"true", "false", "1", "0", "yes", "no", "on", "off", NULL};
    for (int i = 0; words[i]; i++)
        if (!strcasecmp(s, words[i]))
            return true;
    return false;
}

/* The scheme of scheme://rest, or NULL. */
static char *url_scheme(const char *s)
{
    /* file databases are named without an authority: sqlite:db/app.sqlite3 */
    static const char *const opaque[] = {"sqlite", "sqlite3", "file", NULL};
    for (size_t i = 0; opaque[i]; i++) {
        size_t n = strlen(opaque[i]);
        if (!strncasecmp(s, opaque[i], n) && s[n] == ':' && s[n + 1] && strncmp(s + n, "://", 3))
            return xstrdup(opaque[i]);
    }
    const char *sep = strstr(s, "://");
    if (!sep || sep == s || !sep[3])
        return NULL;
    for (const char *p = s; p < sep; p++)
        if (!(isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.'))
            return NULL;
    if (!isalpha((unsigned char)s[0]))
        return NULL;
    char *scheme = xstrndup(s, (size_t)(sep - s));
    for (char *p = scheme; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return scheme;
}

/* RFC 3986 user-info: unreserved, sub-delims, ':' and %HH; everything else must be encoded. */
/* RFC 3986: characters no part of a URL may hold as they are. */
static bool never_in_url(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c);
}

static bool userinfo_char(const char *p)
{
    unsigned char c = (unsigned char)*p;
    if (c == '%')
        return isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]);
    return c < 0x80 && (isalnum(c) || strchr("-._~!$&'()*+,;=:", c));
}

/*
 * Where a URL's user-info ends (at its '@'), reading it as the user most
 * likely meant it, or NULL when the URL has none. a is just past "://",
 * auth_end where clients end the authority (the first '/', '?' or '#').
 */
static const char *userinfo_end(const char *a, const char *auth_end)
{
    const char *last = NULL, *last_in_auth = NULL;
    for (const char *q = a; *q; q++)
        if (*q == '@') {
            last = q;
            if (q < auth_end)
                last_in_auth = q;
        }
    const char *ui_end = NULL;
    if (!last)
        return NULL;
    /* an '@' past the authority is a query value's (?application_name=a@b) only after an '=' */
    bool later = last >= auth_end, in_value = false;
    const char *query = strchr(auth_end, '?');
    const char *fragment = strchr(auth_end, '#');
    if (query && fragment && fragment < query)
        query = NULL; /* a '?' inside a fragment starts no query */
    if (later && query && query < last) {
        const char *param = query;
        for (const char *q = query; q < last; q++)
            if (*q == '&')
                param = q;
        in_value = memchr(param, '=', (size_t)(last - param)) != NULL;
    }
    if (last_in_auth && (!later || (in_value && last_in_auth + 1 < auth_end))) {
        ui_end = last_in_auth; /* user-info, then a host: the ordinary case */
    } else if (last_in_auth) {
        ui_end = last; /* the password went on past a '/', '?' or '#' to the last '@' */
    } else {
        /* no '@' where clients look for one, but one further on: a user:password cut short
         * at a '/', '?' or '#' (even user:84#...), unless there is no ':' at all ([::1] keeps
         * its colons in brackets) */
        const char *h = a;
        if (*h == '[') {
            const char *close = memchr(h, ']', (size_t)(auth_end - h));
            h = close ? close + 1 : h;
        }
        const char *colon = memchr(h, ':', (size_t)(auth_end - h));
        size_t after = colon ? (size_t)(auth_end - colon - 1) : 0;
        bool port = after && strspn(colon + 1, "0123456789") == after;
        /* host:port/db?x=a@b is a URL without credentials; user:not-a-port never is */
        if (colon && !(port && in_value))
            ui_end = last;
    }
    return ui_end;
}

/*
 * A URL's user name and password must be percent-encoded. A password
 * holding '/', '@', '?' or '#' as it is gets read by libpq (and every
 * other client) only up to that character, and the rest of it becomes
 * the host or port, and so part of the client's error messages. Returns
 * what to encode ("'/' (write %2F), '@' (write %40)"), also for
 * characters no part of a URL may carry, or NULL when the URL is well
 * formed. Never the value itself.
 *
 * Some mistakes cannot be told from a valid URL: user:9/db?x=a@host
 * reads as host 'user', port 9. The redactor still hides such a password
 * wherever a client quotes it.
 */
static char *userinfo_problem(const char *url)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return NULL;
    const char *a = sep + 3, *auth_end = a + strcspn(a, "/?#");
    const char *ui_end = userinfo_end(a, auth_end);
    struct strbuf list = STRBUF_INIT;
    bool seen[256] = {false};
    /* the user-info (when there is one), and characters no part of a URL may carry */
    for (const char *q = url; *q; q++) {
        unsigned char c = (unsigned char)*q;
        bool in_userinfo = ui_end && q >= a && q < ui_end;
        if (in_userinfo ? userinfo_char(q) : !never_in_url(c)) {
            if (in_userinfo && c == '%')
                q += 2;
            continue;
        }
        int key = c >= 0x80 ? 0x80 : c < 0x20 || c == 0x7f ? 0x01 : c;
        if (seen[key])
            continue;
        seen[key] = true;
        if (list.len)
            strbuf_addstr(&list, ", ");
        if (key == 0x80)
            strbuf_addstr(&list, "non-ASCII characters (write their UTF-8 bytes as %XX)");
        else if (key == 0x01)
            strbuf_addstr(&list, "control characters (write them as %XX)");
        else if (c == ' ')
            strbuf_addstr(&list, "a space (write %20)");
        else if (c == '%')
            strbuf_addstr(&list, "'%' not followed by two hex digits (write %25)");
        else
            strbuf_addf(&list, "'%c' (write %%%02X)", c, c);
    }
    if (!list.len) {
        strbuf_release(&list);
        return NULL;
    }
    return strbuf_detach(&list, NULL);
}

static char *check_typed(const struct contract_var *v, enum contract_type type, const char *value,
                         const char *what)
{
    char *shown = redact_text(value);
    char *msg = NULL;
    long long n;
    switch (type) {
    case CT_STRING:
        if (v->min_length && (long)strlen(value) < v->min_length)
            msg = xasprintf("%s must be at least %ld characters long", what, v->min_length);
        break;
    case CT_INT:
        if (num_parse_ll(value, &n) < 0)
            msg = xasprintf("%s must be a whole number, not '%s'", what, shown);
        else if ((v->has_min && n < v->min) || (v->has_max && n > v->max))
            msg = xasprintf("%s must be between %lld and %lld, not %lld", what,
                            v->has_min ? v->min : LLONG_MIN, v->has_max ? v->max : LLONG_MAX, n);
        break;
    case CT_PORT:
        if (num_parse_ll(value, &n) < 0 || n < 1 || n > 65535)
            msg = xasprintf("%s must be a port number 1-65535, not '%s'", what, shown);
        else if ((v->has_min && n < v->min) || (v->has_max && n > v->max))
            msg = xasprintf("%s must be between %lld and %lld, not %lld", what,
                            v->has_min ? v->min : 1, v->has_max ? v->max : 65535, n);
        break;
    case CT_BOOL:
        if (!parse_bool(value))
            msg = xasprintf("%s must be true or false, not '%s'", what, shown);
        break;
    case CT_ENUM: {
        bool ok = false;
        struct strbuf list = STRBUF_INIT;
        for (size_t i = 0; i < v->nvalues; i++) {
            ok |= !strcmp(v->values[i], value);
            strbuf_addf(&list, "%s%s", i ? ", " : "", v->values[i]);
        }
        if (!ok)
            msg = xasprintf("%s must be one of %s, not '%s'", what, list.buf, shown);
        strbuf_release(&list);
        break;
    }
    case CT_URL: {
        char *scheme = url_scheme(value);
        if (!scheme) {
            msg =
                xasprintf("%s must be a URL (scheme://... or sqlite:PATH), not '%s'", what, shown);
            break;
        }
        if (v->nschemes && type == v->type) {
            /* postgresql+asyncpg is postgresql with a driver named */
            char *base = xstrdup(scheme);
            char *plus = strchr(base, '+');
            if (plus)
                *plus = '\0';
            bool ok = false;
            for (size_t i = 0; i < v->nschemes; i++)
                ok |= !strcasecmp(v->schemes[i], scheme) || !strcasecmp(v->schemes[i], base);
            if (!ok) {
                struct strbuf list = STRBUF_INIT;
                for (size_t i = 0; i < v->nschemes; i++)
                    strbuf_addf(&list, "%s%s", i ? ", " : "", v->schemes[i]);
                msg = xasprintf("%s must use scheme %s, not '%s'", what, list.buf, scheme);
                strbuf_release(&list);
            }
            free(base);
        }
        free(scheme);
        char *encode = msg ? NULL : userinfo_problem(value);
        if (encode)
            msg = xasprintf("%s has a user name or password a URL cannot carry as it is; "
                            "percent-encode %s",
                            what, encode);
        free(encode);
        break;
    }
    case CT_DURATION:
        if (num_parse_duration(value, &n) < 0)
            msg = xasprintf("%s must be a duration such as 30s, 5m or 1h, not '%s'", what, shown);
        else if ((v->has_min && n < v->min) || (v->has_max && n > v->max))
            msg = xasprintf("%s must be between %lld and %lld seconds, not %lld", what,
                            v->has_min ? v->min : 0, v->has_max ? v->max : LLONG_MAX, n);
        break;
    case CT_CSV: {
        char *copy = xstrdup(value);
        char *save = NULL;
        int idx = 0;
        for (char *item = strtok_r(copy, ",", &save); item && !msg;
             item = strtok_r(NULL, ",", &save), idx++) {
            while (isspace((unsigned char)*item))
                item++;
            size_t l = strlen(item);
            while (l && isspace((unsigned char)item[l - 1]))
                item[--l] = '\0';
            if (!*item) {
                msg = xasprintf("%s has an empty item", what);
                break;
            }
            if (v->item_type != CT_CSV && v->item_type != CT_STRING) {
                char *iwhat = xasprintf("%s item %d", what, idx + 1);
                msg = check_typed(v, v->item_type, item, iwhat);
                free(iwhat);
            }
        }
        free(copy);
        break;
    }
    case CT_SECRET: {
        long min = v->min_length ? v->min_length : CONTRACT_SECRET_MIN_LENGTH;
        /* never the value, nor its length: both help a guesser */
        if (contract_is_placeholder(value))
            msg = xasprintf("%s holds a placeholder, not a real secret", what);
        else if ((long)strlen(value) < min)
            msg = xasprintf("%s is shorter than %ld characters", what, min);
        else if (contract_secret_bits(value) < 64)
            msg = xasprintf("%s is too predictable (under 64 bits of entropy); use a random "
                            "value",
                            what);
        break;
    }
    }
    free(shown);
    return msg;
}

char *contract_check_value(const struct contract_var *v, const char *value)
{
    char *what = xasprintf("'%s'", v->name);
    char *msg = check_typed(v, v->type, value, what);
    free(what);
    return msg;
}

/* ---- database URLs ---------------------------------------------------- */

char *contract_normalise_pg_url(const char *s)
{
    char *scheme = url_scheme(s);
    if (!scheme)
        return NULL;
    char *plus = strchr(scheme, '+');
    if (plus)
        *plus = '\0';
    char *r = NULL;
    if (!strcmp(scheme, "postgres") || !strcmp(scheme, "postgresql"))
        r = xasprintf("postgresql://%s", strstr(s, "://") + 3);
    free(scheme);
    return r;
}

static void pct_encode(struct strbuf *sb, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            strbuf_addch(sb, *p);
        else
            strbuf_addf(sb, "%%%02X", *p);
    }
}

char *contract_build_pg_url(const char *user, const char *password, const char *host,
                            const char *port, const char *db)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "postgresql://");
    if (user && *user) {
        pct_encode(&sb, user);
        if (password && *password) {
            strbuf_addch(&sb, ':');
            pct_encode(&sb, password);
        }
        strbuf_addch(&sb, '@');
    }
    if (host && strchr(host, ':') && host[0] != '[')
        strbuf_addf(&sb, "[%s]", host); /* an IPv6 address */
    else
        strbuf_addstr(&sb, host && *host ? host : "localhost");
    if (port && *port)
        strbuf_addf(&sb, ":%s", port);
    strbuf_addch(&sb, '/');
    if (db && *db)
        pct_encode(&sb, db);
    return strbuf_detach(&sb, NULL);
}

/* ---- evaluation ------------------------------------------------------- */

const struct contract_value *contract_value_of(const struct contract_eval *ev, const char *name)
{
    for (size_t i = 0; i < ev->nvalues; i++)
        if (!strcmp(ev->values[i].var->name, name))
            return &ev->values[i];
    return NULL;
}

static struct contract_value *value_of(struct contract_eval *ev, const char *name)
{
    return (struct contract_value *)contract_value_of(ev, name);
}

/* Reports a problem about a value where it came from. */
__attribute__((format(printf, 4, 5))) static void problem(struct contract_eval *ev,
                                                          enum diag_severity sev,
                                                          const struct envvar *from,
                                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (from && from->origin == ORIGIN_FILE)
        diag_add_at(&ev->diags, sev, from->file, from->line, 0, "%s", msg);
    else if (from && from->origin == ORIGIN_PROCESS)
        diag_add_at(&ev->diags, sev, PROCESS_ENV, 0, 0, "%s", msg);
    else
        diag_add_at(&ev->diags, sev, NULL, 0, 0, "%s", msg);
    free(msg);
}

static void about_var(struct contract_eval *ev, const struct contract_var *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void about_var(struct contract_eval *ev, const struct contract_var *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    diag_add(&ev->diags, DIAG_ERROR, v->pos.line, v->pos.col, "%s", msg);
    free(msg);
}

static void load_layers(struct contract_eval *ev)
{
    const char *e = ev->env->name;
    const char *names[CONTRACT_LAYERS][2] = {
        {".env.", ".local"}, {".env.", ""}, {".env.local", NULL}, {".env", NULL}};
    for (int i = 0; i < CONTRACT_LAYERS; i++) {
        char *rel =
            names[i][1] ? xasprintf("%s%s%s", names[i][0], e, names[i][1]) : xstrdup(names[i][0]);
        char *path = strcmp(ev->m->dir, ".") ? xasprintf("%s/%s", ev->m->dir, rel) : xstrdup(rel);
        struct diag_list dl;
        diag_list_init(&dl, rel);
        int rc = dotenv_load(&ev->layers[i], path, &dl);
        free(ev->layers[i].file);
        ev->layers[i].file = xstrdup(rel);
        ev->layer_present[i] = rc != 1;
        for (size_t k = 0; k < dl.n; k++)
            diag_add_at(&ev->diags, dl.items[k].severity, rel, dl.items[k].line, 0, "%s",
                        dl.items[k].msg);
        diag_list_release(&dl);
        ev->layer_paths[i] = rel;
        free(path);
    }
}

static bool is_alias(const struct manifest *m, const char *name, const struct contract_var **of)
{
    for (size_t i = 0; i < m->nconfig; i++)
        for (size_t a = 0; a < m->config[i].naliases; a++)
            if (!strcmp(m->config[i].aliases[a], name)) {
                if (of)
                    *of = &m->config[i];
                return true;
            }
    return false;
}

static bool is_canonical(const struct manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nconfig; i++)
        if (!strcmp(m->config[i].name, name))
            return true;
    return false;
}

/* Canonical name, aliases and default decide each variable's value. */
static void resolve_values(struct contract_eval *ev)
{
    const struct manifest *m = ev->m;
    ev->values = xcalloc(m->nconfig ? m->nconfig : 1, sizeof(*ev->values));
    ev->nvalues = m->nconfig;
    for (size_t i = 0; i < m->nconfig; i++) {
        const struct contract_var *v = &m->config[i];
        struct contract_value *cv = &ev->values[i];
        cv->var = v;
        /* KEY= (as in a copied .env.example) means "not set", not "set to nothing" */
        const struct envvar *canon = envset_find(&ev->set, v->name);
        const struct envvar *chosen = canon && canon->value && *canon->value ? canon : NULL;
        const char *chosen_alias = NULL;
        for (size_t a = 0; a < v->naliases; a++) {
            const struct envvar *al = envset_find(&ev->set, v->aliases[a]);
            if (!al || !al->value || !*al->value)
                continue;
            if (chosen && strcmp(chosen->value, al->value)) {
                problem(ev, DIAG_ERROR, al,
                        "'%s' (an alias of '%s') and '%s' are both set, to different values; "
                        "keep only '%s'",
                        v->aliases[a], v->name, chosen_alias ? chosen_alias : v->name, v->name);
                continue;
            }
            if (chosen) {
                problem(ev, DIAG_WARNING, al,
                        "'%s' is a deprecated alias of '%s', which is also set; remove '%s'",
                        v->aliases[a], v->name, v->aliases[a]);
                continue;
            }
            problem(ev, DIAG_WARNING, al, "'%s' is deprecated: rename it to '%s'", v->aliases[a],
                    v->name);
            chosen = al;
            chosen_alias = v->aliases[a];
        }
        if (chosen) {
            cv->value = xstrdup(chosen->value);
            cv->source = envvar_source(chosen);
            cv->alias = chosen_alias ? xstrdup(chosen_alias) : NULL;
        } else if (v->default_value) {
            cv->value = xstrdup(v->default_value);
            cv->source = xstrdup("default");
        }
    }
}

/* The database URL: normalised, or built from the POSTGRES_* parts. */
static void database_url(struct contract_eval *ev)
{
    const char *var = ev->m->database.url_var;
    struct contract_value *url = var ? value_of(ev, var) : NULL;
    if (!url)
        return;
    if (url->value) {
        char *norm = contract_normalise_pg_url(url->value);
        if (norm && strcmp(norm, url->value)) {
            char *scheme = url_scheme(url->value);
            url->note = xasprintf("normalised from %s://", scheme);
            free(scheme);
            free(url->value);
            url->value = norm;
        } else {
            free(norm);
        }
        return;
    }
    const struct contract_value *user = value_of(ev, "POSTGRES_USER");
    const struct contract_value *pass = value_of(ev, "POSTGRES_PASSWORD");
    const struct contract_value *db = value_of(ev, "POSTGRES_DB");
    const struct contract_value *host = value_of(ev, "POSTGRES_HOST");
    const struct contract_value *port = value_of(ev, "POSTGRES_PORT");
    if (!user || !user->value || !db || !db->value)
        return;
    url->value =
        contract_build_pg_url(user->value, pass ? pass->value : NULL, host ? host->value : NULL,
                              port ? port->value : NULL, db->value);
    url->source = xstrdup("otap");
    url->note = xstrdup("built from the POSTGRES_* parts");
}

static void environment_var(struct contract_eval *ev)
{
    struct contract_value *cv = value_of(ev, "ENVIRONMENT");
    if (!cv)
        return;
    if (!cv->value) {
        cv->value = xstrdup(ev->env->name);
        cv->source = xstrdup("otap");
        return;
    }
    if (strcmp(cv->value, ev->env->name)) {
        const struct envvar *from = envset_find(&ev->set, cv->alias ? cv->alias : "ENVIRONMENT");
        char *shown = redact_text(cv->value);
        problem(ev, DIAG_ERROR, from,
                "'%s' says '%s', but the environment is '%s': refusing to mix environments",
                cv->alias ? cv->alias : "ENVIRONMENT", shown, ev->env->name);
        free(shown);
    }
}

/* A group name and way from one_of: "database:url" or "database". */
static char *group_of(const struct contract_var *v, char **way)
{
    const char *colon = strchr(v->one_of, ':');
    if (way)
        *way = colon ? xstrdup(colon + 1) : xstrdup(v->name);
    return colon ? xstrndup(v->one_of, (size_t)(colon - v->one_of)) : xstrdup(v->one_of);
}

/*
 * Is some way of v's group complete (every member of that way has a
 * value)? ways gets them described, "DATABASE_URL or POSTGRES_USER+...".
 */
static bool group_satisfied(struct contract_eval *ev, const struct contract_var *v,
                            struct strbuf *ways)
{
    char *group = group_of(v, NULL);
    char **names = NULL; /* the group's ways, in order of first appearance */
    size_t nnames = 0, alloc = 0;
    for (size_t i = 0; i < ev->nvalues; i++) {
        const struct contract_var *a = ev->values[i].var;
        char *way = NULL, *g = a->one_of ? group_of(a, &way) : NULL;
        bool seen = !g || strcmp(g, group);
        for (size_t k = 0; !seen && k < nnames; k++)
            seen = !strcmp(names[k], way);
        if (!seen) {
            *XPUSH(&names, &nnames, &alloc) = way;
            way = NULL;
        }
        free(way);
        free(g);
    }
    bool any = false;
    for (size_t k = 0; k < nnames; k++) {
        bool complete = true;
        strbuf_addstr(ways, k ? " or " : "");
        bool first = true;
        for (size_t i = 0; i < ev->nvalues; i++) {
            const struct contract_var *a = ev->values[i].var;
            char *way = NULL, *g = a->one_of ? group_of(a, &way) : NULL;
            if (g && !strcmp(g, group) && !strcmp(way, names[k])) {
                complete &= ev->values[i].value != NULL;
                strbuf_addf(ways, "%s%s", first ? "" : "+", a->name);
                first = false;
            }
            free(way);
            free(g);
        }
        any |= complete;
    }
    xfree_strv(names, nnames);
    free(group);
    return any;
}

static void check_required_and_types(struct contract_eval *ev)
{
    for (size_t i = 0; i < ev->nvalues; i++) {
        struct contract_value *cv = &ev->values[i];
        const struct contract_var *v = cv->var;
        if (!cv->value) {
            if (!manifest_var_required_in(v, ev->env->name))
                continue;
            struct strbuf ways = STRBUF_INIT;
            if (v->one_of && group_satisfied(ev, v, &ways)) {
                strbuf_release(&ways);
                continue;
            }
            struct strbuf also = STRBUF_INIT;
            for (size_t a = 0; a < v->naliases; a++)
                strbuf_addf(&also, "%s%s", a ? ", " : " (or its alias ", v->aliases[a]);
            if (also.len)
                strbuf_addch(&also, ')');
            if (ways.len)
                about_var(ev, v, "'%s' is required in %s but not set; set %s", v->name,
                          ev->env->name, ways.buf);
            else
                about_var(ev, v, "'%s' is required in %s but not set%s", v->name, ev->env->name,
                          also.buf);
            strbuf_release(&also);
            strbuf_release(&ways);
            continue;
        }
        bool local_placeholder = false;
        for (size_t k = 0; k < v->nplaceholder_envs && v->type == CT_SECRET; k++)
            local_placeholder |= !strcmp(v->placeholder_envs[k], ev->env->name);
        if (local_placeholder && contract_is_placeholder(cv->value)) {
            /* the template as shipped runs here; the stages that matter still refuse it */
            problem(ev, DIAG_WARNING, envset_find(&ev->set, cv->alias ? cv->alias : v->name),
                    "'%s' holds a placeholder, which otap.yaml allows in %s only "
                    "(placeholders_in)",
                    v->name, ev->env->name);
            continue;
        }
        char *msg = contract_check_value(v, cv->value);
        if (msg) {
            const struct envvar *from =
                cv->source && strcmp(cv->source, "default") && strcmp(cv->source, "otap")
                    ? envset_find(&ev->set, cv->alias ? cv->alias : v->name)
                    : NULL;
            if (from)
                problem(ev, DIAG_ERROR, from, "%s", msg);
            else
                about_var(ev, v, "%s (the %s value)", msg, cv->source ? cv->source : "default");
            free(msg);
        }
    }
}

/* Keys in the dotenv files that the contract does not name. */
static void check_unknown(struct contract_eval *ev)
{
    const struct manifest *m = ev->m;
    size_t ncand = 0;
    const char **cand = xcalloc(m->nconfig * 4 + 1, sizeof(*cand));
    for (size_t i = 0; i < m->nconfig; i++) {
        cand[ncand++] = m->config[i].name;
        for (size_t a = 0; a < m->config[i].naliases && ncand < m->nconfig * 4; a++)
            cand[ncand++] = m->config[i].aliases[a];
    }
    for (int l = 0; l < CONTRACT_LAYERS; l++) {
        const struct dotenv *d = &ev->layers[l];
        for (size_t i = 0; i < d->n; i++) {
            const char *key = d->items[i].key;
            if (is_canonical(m, key) || is_alias(m, key, NULL))
                continue;
            if (!strcmp(key, "CONFIRM_PROD_MIGRATE")) {
                /* a file would confirm every production migration forever */
                diag_add_at(&ev->diags, DIAG_ERROR, d->file, d->items[i].line, 0,
                            "CONFIRM_PROD_MIGRATE does not belong in a file: confirming a "
                            "production migration is an act, set it for the one command");
                continue;
            }
            const char *s = suggest_closest(key, cand);
            if (s)
                diag_add_at(&ev->diags, DIAG_ERROR, d->file, d->items[i].line, 0,
                            "'%s' is not in the config contract (did you mean '%s'?)", key, s);
            else
                diag_add_at(&ev->diags, DIAG_ERROR, d->file, d->items[i].line, 0,
                            "'%s' is not in the config contract; add it to otap.yaml after "
                            "review, or remove it",
                            key);
        }
    }
    free(cand);
}

/* "FILE:LINE" without the line: where a value came from, as a file */
static char *source_file(const char *source)
{
    const char *colon = strrchr(source, ':');
    return colon ? xstrndup(source, (size_t)(colon - source)) : xstrdup(source);
}

/*
 * Staging and production need their own credentials (seed 004 §9): a
 * secret equal to the one another environment's files give is an error,
 * reported once per secret however many environments share it, and as
 * the shared file's problem when one file gives it to all of them.
 */
static void check_shared_secrets(struct contract_eval *ev)
{
    if (ev->env->stage != STAGE_A && ev->env->stage != STAGE_P)
        return;
    const struct manifest *m = ev->m;
    struct contract_eval *others = xcalloc(m->nenvs ? m->nenvs : 1, sizeof(*others));
    bool *have = xcalloc(m->nenvs ? m->nenvs : 1, sizeof(bool));
    for (size_t o = 0; o < m->nenvs; o++)
        /* files only: the process environment is this run's, not the other's */
        have[o] = &m->envs[o] != ev->env &&
                  contract_eval(&others[o], m, ev->diags.file, m->envs[o].name, NULL, NULL) == 0;
    for (size_t i = 0; i < ev->nvalues; i++) {
        const struct contract_value *mine = &ev->values[i];
        if (mine->var->type != CT_SECRET || !mine->value)
            continue;
        struct strbuf names = STRBUF_INIT, sources = STRBUF_INIT;
        size_t n = 0;
        bool one_file = mine->source != NULL;
        char *my_file = mine->source ? source_file(mine->source) : NULL;
        for (size_t o = 0; o < m->nenvs; o++) {
            const struct contract_value *theirs = have[o] ? &others[o].values[i] : NULL;
            if (!theirs || !theirs->value || strcmp(mine->value, theirs->value))
                continue;
            char *their_file = theirs->source ? source_file(theirs->source) : NULL;
            one_file = one_file && their_file && !strcmp(my_file, their_file);
            free(their_file);
            strbuf_addf(&names, "%s%s", n ? ", " : "", m->envs[o].name);
            strbuf_addf(&sources, "%s%s", n ? ", " : "", theirs->source ? theirs->source : "?");
            n++;
        }
        if (n) {
            const struct envvar *from =
                envset_find(&ev->set, mine->alias ? mine->alias : mine->var->name);
            if (one_file)
                problem(ev, DIAG_ERROR, from,
                        "'%s' comes from the shared %s for %s and %s; give each environment its "
                        "own",
                        mine->var->name, my_file, names.buf, ev->env->name);
            else
                problem(ev, DIAG_ERROR, from,
                        "'%s' in %s is the same as in %s (%s); use separate credentials per "
                        "environment",
                        mine->var->name, ev->env->name, names.buf, sources.buf);
        }
        free(my_file);
        strbuf_release(&names);
        strbuf_release(&sources);
    }
    for (size_t o = 0; o < m->nenvs; o++)
        if (have[o])
            contract_eval_release(&others[o]);
    free(others);
    free(have);
}

int contract_eval(struct contract_eval *ev, const struct manifest *m, const char *manifest_name,
                  const char *env_name, char *const *process, struct otap_err *err)
{
    memset(ev, 0, sizeof(*ev));
    const struct manifest_env *env = manifest_env_find(m, env_name);
    /* before anything is allocated: a failed call leaves nothing to release */
    if (!env) {
        struct strbuf known = STRBUF_INIT;
        for (size_t i = 0; i < m->nenvs; i++)
            strbuf_addf(&known, "%s%s", i ? ", " : "", m->envs[i].name);
        int rc = otap_err_set(err, OTAP_ENOTFOUND, "no environment '%s'; the manifest has: %s",
                              env_name, known.buf);
        strbuf_release(&known);
        return rc;
    }
    ev->m = m;
    ev->env = env;
    diag_list_init(&ev->diags, manifest_name);
    load_layers(ev);
    struct dotenv *layers[CONTRACT_LAYERS];
    for (int i = 0; i < CONTRACT_LAYERS; i++)
        layers[i] = &ev->layers[i];
    envset_build(&ev->set, layers, CONTRACT_LAYERS, process, &ev->diags);
    resolve_values(ev);
    database_url(ev);
    environment_var(ev);
    check_required_and_types(ev);
    check_unknown(ev);
    if (process)
        check_shared_secrets(ev);
    diag_sort(&ev->diags);
    return 0;
}

bool contract_is_secret(const struct contract_var *v, const char *name)
{
    if (v && v->type == CT_SECRET)
        return true;
    if (v && v->type != CT_STRING)
        return false;
    return redact_name_is_secret(name, (int)strlen(name));
}

void contract_eval_release(struct contract_eval *ev)
{
    for (size_t i = 0; i < ev->nvalues; i++) {
        struct contract_value *cv = &ev->values[i];
        if (cv->value)
            explicit_bzero(cv->value, strlen(cv->value));
        free(cv->value);
        free(cv->source);
        free(cv->alias);
        free(cv->note);
    }
    free(ev->values);
    for (int i = 0; i < CONTRACT_LAYERS; i++) {
        free(ev->layer_paths[i]);
        dotenv_release(&ev->layers[i]);
    }
    for (size_t i = 0; i < ev->set.n; i++)
        if (ev->set.items[i].value)
            explicit_bzero(ev->set.items[i].value, strlen(ev->set.items[i].value));
    envset_release(&ev->set);
    diag_list_release(&ev->diags);
    memset(ev, 0, sizeof(*ev));
}

char **contract_child_env(const struct contract_eval *ev, char *const *process)
{
    const struct manifest *m = ev->m;
    char **envp = NULL;
    size_t n = 0, alloc = 0;
    for (size_t i = 0; process && process[i]; i++) {
        const char *eq = strchr(process[i], '=');
        if (!eq)
            continue;
        char *name = xstrndup(process[i], (size_t)(eq - process[i]));
        bool drop = is_alias(m, name, NULL) || is_canonical(m, name);
        free(name);
        if (!drop)
            *XPUSH(&envp, &n, &alloc) = xstrdup(process[i]);
    }
    for (size_t i = 0; i < ev->nvalues; i++)
        if (ev->values[i].value)
            *XPUSH(&envp, &n, &alloc) =
                xasprintf("%s=%s", ev->values[i].var->name, ev->values[i].value);
    if (!value_of((struct contract_eval *)ev, "ENVIRONMENT"))
        *XPUSH(&envp, &n, &alloc) = xasprintf("ENVIRONMENT=%s", ev->env->name);
    *XPUSH(&envp, &n, &alloc) = NULL;
    return envp;
}

void contract_child_env_free(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++) {
        explicit_bzero(envp[i], strlen(envp[i]));
        free(envp[i]);
    }
    free(envp);
}

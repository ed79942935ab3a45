/*
 * Reading what a repository already has (adopt.h). Nothing here is
 * certain, so every line written says where it came from: "otap init"
 * proposes, the team reviews, "otap check" validates.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libfyaml.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/adopt.h"
#include "config/dotenv.h"
#include "base/num.h"
#include "base/placeholder.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define ADOPT_MAX_BYTES (4u << 20)

/* dir/rel's text, or NULL when it is not there (*failed when it is but cannot be read) */
static char *slurp(const char *dir, const char *rel, size_t *len, bool *failed)
{
    char *path = xasprintf("%s/%s", dir, rel);
    struct strbuf sb = STRBUF_INIT;
    char *text = NULL;
    if (strbuf_read_file(&sb, path, ADOPT_MAX_BYTES) == 0)
        text = strbuf_detach(&sb, len);
    else if (errno != ENOENT && errno != ENOTDIR)
        *failed = true;
    strbuf_release(&sb);
    free(path);
    return text;
}

/* The first of names that dir holds: its text, and *rel its name; NULL when none is there. */
static char *slurp_first(const char *dir, const char *const *names, const char **rel, size_t *len,
                         bool *failed)
{
    for (int i = 0; names[i]; i++) {
        char *text = slurp(dir, names[i], len, failed);
        if (text) {
            *rel = names[i];
            return text;
        }
    }
    return NULL;
}

/*
 * text as a YAML document whose root is a mapping, or NULL. What the
 * manifest loader also refuses before libfyaml sees it (a NUL, invalid
 * UTF-8) is refused here: libfyaml 0.7 loops on some of it.
 */
static struct fy_document *yaml_mapping(const char *text, size_t len, struct fy_node **root)
{
    size_t bad;
    *root = NULL;
    if (memchr(text, '\0', len) || !utf8_valid(text, len, &bad))
        return NULL;
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_JSON_NONE};
    struct fy_document *doc = fy_document_build_from_string(&cfg, text, len);
    *root = doc ? fy_document_root(doc) : NULL;
    if (!*root || fy_node_get_type(*root) != FYNT_MAPPING) {
        fy_document_destroy(doc);
        *root = NULL;
        return NULL;
    }
    return doc;
}

static bool is_dir(const char *dir, const char *rel)
{
    char *path = xasprintf("%s/%s", dir, rel);
    struct stat st;
    bool yes = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    free(path);
    return yes;
}

static bool has(const char *s, const char *word)
{
    return strstr(s, word) != NULL;
}

/* ---- variables: .env.example and .env -------------------------------- */

struct var {
    char *name, *value, *from;
    int line;
};

struct vars {
    struct var *items;
    size_t n, alloc;
};

static struct var *var_find(struct vars *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->items[i].name, name))
            return &v->items[i];
    return NULL;
}

/* The value as written, a reference kept as ${NAME}. */
static char *entry_value(const struct dotenv_entry *e)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < e->nparts; i++)
        strbuf_addf(&sb, e->parts[i].kind == DOTENV_REF ? "${%s}" : "%s", e->parts[i].text);
    return sb.buf ? strbuf_detach(&sb, NULL) : xstrdup("");
}

static void read_dotenv(const char *dir, const char *rel, struct vars *v, struct adopt *a,
                        struct diag_list *diags, bool *failed)
{
    size_t len;
    char *text = slurp(dir, rel, &len, failed);
    if (!text)
        return;
    struct dotenv d;
    dotenv_parse(&d, text, len, rel, diags);
    strvec_push(&a->read, rel);
    for (size_t i = 0; i < d.n; i++) {
        struct var *have = var_find(v, d.items[i].key);
        char *value = entry_value(&d.items[i]);
        if (have && !*have->value && *value) {
            /* an example left it empty: the value the type is guessed from is this one */
            free(have->value);
            have->value = value;
            continue;
        }
        if (have) {
            free(value);
            continue;
        }
        *XPUSH(&v->items, &v->n, &v->alloc) =
            (struct var){xstrdup(d.items[i].key), value, xstrdup(rel), d.items[i].line};
    }
    dotenv_release(&d);
    free(text);
}

static bool digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* A name that says it holds a credential (and not its user, host or lifetime). */
static bool secret_name(const char *n)
{
    static const char *const not_secret[] = {"_ID",   "_USER", "_NAME",    "_URL",   "_HOST",
                                             "_PORT", "_FILE", "_PATH",    "_HOURS", "_MINUTES",
                                             "_DAYS", "_TTL",  "_SECONDS", NULL};
    for (int i = 0; not_secret[i]; i++)
        if (ends(n, not_secret[i]))
            return false;
    return has(n, "SECRET") || has(n, "PASSWORD") || has(n, "PASSWD") || has(n, "TOKEN") ||
           has(n, "PRIVATE_KEY") || has(n, "API_KEY") || has(n, "ACCESS_KEY") || ends(n, "_KEY");
}

/* The scheme of "scheme://...", or NULL. */
static char *url_scheme(const char *v)
{
    size_t i = 0;
    while (v[i] && (isalnum((unsigned char)v[i]) || strchr("+.-", v[i])))
        i++;
    return i && isalpha((unsigned char)v[0]) && !strncmp(v + i, "://", 3) ? xstrndup(v, i) : NULL;
}

static void emit_var(struct adopt *a, const struct var *v, bool required)
{
    const char *val = v->value;
    char *scheme = url_scheme(val);
    struct strbuf spec = STRBUF_INIT;
    const char *why;
    if (scheme) {
        bool pg = !strncmp(scheme, "postgres", 8);
        strbuf_addf(&spec, "type: url, schemes: [%s]", pg ? "postgresql, postgres" : scheme);
        why = "its value is a URL";
    } else if (digits(val) && (!strcmp(v->name, "PORT") || ends(v->name, "_PORT"))) {
        strbuf_addstr(&spec, "type: port");
        why = "a port by its name and value";
    } else if (digits(val)) {
        strbuf_addstr(&spec, "type: int");
        why = "its value is a number";
    } else if (secret_name(v->name)) {
        strbuf_addstr(&spec, "type: secret");
        why = "a secret by its name";
        if (*val && placeholder_value(val, strlen(val))) {
            /* the template runs locally as shipped; acceptance and production refuse it */
            strbuf_addstr(&spec, ", placeholders_in: [development]");
            why = "a secret by its name; its value there is a placeholder";
        }
    } else if (!strcasecmp(val, "true") || !strcasecmp(val, "false")) {
        strbuf_addstr(&spec, "type: bool");
        why = "its value is true or false";
    } else {
        strbuf_addstr(&spec, "type: string");
        why = "a string";
    }
    if (required)
        strbuf_addstr(&spec, ", required: true");
    strbuf_addf(&a->config, "  %s: { %s }   # %s:%d: %s%s\n", v->name, spec.buf, v->from, v->line,
                why, required ? "; compose requires it (${...:?})" : "");
    a->nvars++;
    strbuf_release(&spec);
    free(scheme);
}

/* ---- services: the compose file ----------------------------------------- */

static const char *scalar(struct fy_node *n)
{
    return n && fy_node_get_type(n) == FYNT_SCALAR ? fy_node_get_scalar0(n) : NULL;
}

/* The host port of a compose "ports" item: "8000:80", "127.0.0.1:8000:80", "8000", {published}. */
static int host_port(struct fy_node *item)
{
    const char *s = scalar(item);
    if (!s && item && fy_node_get_type(item) == FYNT_MAPPING)
        s = scalar(fy_node_mapping_lookup_by_string(item, "published", FY_NT));
    if (!s)
        return 0;
    char *copy = xstrdup(s);
    char *slash = strchr(copy, '/');
    if (slash)
        *slash = '\0';
    char *parts[3] = {0};
    int n = 0;
    for (char *save = NULL, *p = strtok_r(copy, ":", &save); p && n < 3;
         p = strtok_r(NULL, ":", &save))
        parts[n++] = p;
    const char *host = n == 3 ? parts[1] : parts[0];
    long long port = 0;
    if (!host || !digits(host) || num_parse_ll(host, &port) < 0)
        port = 0;
    free(copy);
    return port > 0 && port < 65536 ? (int)port : 0;
}

/* What may stand inside the double quotes of the YAML written: a URL path's characters. */
static bool path_ok(const char *p)
{
    if (*p != '/')
        return false;
    for (; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("/_.~%?=&:+,;@!*()-", *p)))
            return false;
    return true;
}

/* From a healthcheck's test: the path (and port) of an http://localhost URL in it. */
static char *health_path(struct fy_node *test, int *port)
{
    struct strbuf sb = STRBUF_INIT;
    if (scalar(test)) {
        strbuf_addstr(&sb, scalar(test));
    } else if (test && fy_node_get_type(test) == FYNT_SEQUENCE) {
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(test, &it)))
            if (scalar(item))
                strbuf_addf(&sb, "%s ", scalar(item));
    }
    char *path = NULL;
    const char *url = sb.buf ? strstr(sb.buf, "http://") : NULL;
    if (url) {
        const char *host = url + 7, *p = host;
        while (*p && *p != '/' && *p != ' ' && *p != '"')
            p++;
        const char *colon = memchr(host, ':', (size_t)(p - host));
        if (colon) {
            char *digits_at = xstrndup(colon + 1, strspn(colon + 1, "0123456789"));
            long long n;
            if (*digits_at && num_parse_ll(digits_at, &n) == 0 && n > 0 && n < 65536)
                *port = (int)n;
            free(digits_at);
        }
        const char *end = p;
        while (*end && *end != ' ' && *end != '"' && *end != '\'')
            end++;
        if (*p == '/')
            path = xstrndup(p, (size_t)(end - p));
        if (path && !path_ok(path)) {
            free(path);
            path = NULL;
        }
    }
    strbuf_release(&sb);
    return path;
}

static bool service_name_ok(const char *s)
{
    if (!*s || !islower((unsigned char)*s))
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' || *s == '_'))
            return false;
    return true;
}

static bool in_list(const struct strvec *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->items[i], s))
            return true;
    return false;
}

struct svc {
    char *name;
    int port;
    const char *port_why;
    char *path;
    struct strvec deps;
};

static struct svc *svc_find(struct svc *all, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(all[i].name, name))
            return &all[i];
    return NULL;
}

/* Can from reach to along depends_on? */
static bool reaches(struct svc *all, size_t n, struct svc *from, const struct svc *to, int depth)
{
    if (from == to)
        return true;
    for (size_t i = 0; depth < 64 && i < from->deps.n; i++) {
        struct svc *next = svc_find(all, n, from->deps.items[i]);
        if (next && reaches(all, n, next, to, depth + 1))
            return true;
    }
    return false;
}

static void read_deps(struct fy_node *deps, const struct strvec *known, struct strvec *out)
{
    if (deps && fy_node_get_type(deps) == FYNT_SEQUENCE) {
        void *it = NULL;
        struct fy_node *d;
        while ((d = fy_node_sequence_iterate(deps, &it)))
            if (scalar(d) && in_list(known, scalar(d)) && !in_list(out, scalar(d)))
                strvec_push(out, scalar(d));
    } else if (deps && fy_node_get_type(deps) == FYNT_MAPPING) {
        void *it = NULL;
        struct fy_node_pair *dp;
        while ((dp = fy_node_mapping_iterate(deps, &it))) {
            const char *d = scalar(fy_node_pair_key(dp));
            if (d && in_list(known, d) && !in_list(out, d))
                strvec_push(out, d);
        }
    }
}

static void read_compose(const char *dir, struct adopt *a, struct strvec *required,
                         struct diag_list *diags, bool *failed)
{
    static const char *const names[] = {"compose.yml", "compose.yaml", "docker-compose.yml",
                                        "docker-compose.yaml", NULL};
    const char *rel = NULL;
    size_t len = 0;
    char *text = slurp_first(dir, names, &rel, &len, failed);
    if (!text)
        return;
    strvec_push(&a->read, rel);
    /* ${NAME:?message}: compose refuses to start without NAME */
    for (const char *p = text; (p = strstr(p, "${")); p += 2) {
        size_t k = strspn(p + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
        if (k && !strncmp(p + 2 + k, ":?", 2)) {
            char *name = xstrndup(p + 2, k);
            if (in_list(required, name))
                free(name);
            else
                strvec_push_owned(required, name);
        }
    }
    struct fy_node *root;
    struct fy_document *doc = yaml_mapping(text, len, &root);
    struct fy_node *services =
        root ? fy_node_mapping_lookup_by_string(root, "services", FY_NT) : NULL;
    if (!services || fy_node_get_type(services) != FYNT_MAPPING) {
        diag_add_at(diags, DIAG_WARNING, rel, 0, 0,
                    "not read: no 'services' mapping otap can parse");
        fy_document_destroy(doc);
        free(text);
        return;
    }
    /* the services that will be written, which alone a depends_on may name */
    struct strvec known = STRVEC_INIT;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(services, &it))) {
        const char *name = scalar(fy_node_pair_key(pair));
        struct fy_node *svc = fy_node_pair_value(pair);
        if (!name || !svc || fy_node_get_type(svc) != FYNT_MAPPING)
            continue;
        if (!service_name_ok(name))
            strvec_pushf(&a->notes,
                         "%s: service '%s' left out: otap's service names are "
                         "lower-case letters, digits, '-' and '_'",
                         rel, name);
        else if (!in_list(&known, name))
            strvec_push(&known, name);
    }
    struct svc *all = xcalloc(known.n ? known.n : 1, sizeof(*all));
    size_t n = 0;
    int used[64] = {0};
    size_t nused = 0;
    it = NULL;
    while ((pair = fy_node_mapping_iterate(services, &it))) {
        const char *name = scalar(fy_node_pair_key(pair));
        struct fy_node *node = fy_node_pair_value(pair);
        if (!name || !in_list(&known, name) || svc_find(all, n, name) || !node ||
            fy_node_get_type(node) != FYNT_MAPPING)
            continue;
        struct svc *s = &all[n++];
        s->name = xstrdup(name);
        int probe_port = 0;
        struct fy_node *ports = fy_node_mapping_lookup_by_string(node, "ports", FY_NT);
        if (ports && fy_node_get_type(ports) == FYNT_SEQUENCE) {
            void *pit = NULL;
            s->port = host_port(fy_node_sequence_iterate(ports, &pit));
            s->port_why = "the first port it publishes";
        }
        struct fy_node *hc = fy_node_mapping_lookup_by_string(node, "healthcheck", FY_NT);
        s->path = hc ? health_path(fy_node_mapping_lookup_by_string(hc, "test", FY_NT), &probe_port)
                     : NULL;
        if (!s->port && probe_port > 0 && probe_port < 65536) {
            s->port = probe_port;
            s->port_why = "guessed: the port its healthcheck probes";
        }
        for (size_t u = 0; u < nused && s->port; u++)
            if (used[u] == s->port) {
                strvec_pushf(&a->notes, "%s: service '%s' also uses port %d: give it its own", rel,
                             name, s->port);
                s->port = 0;
            }
        if (s->port && nused < 64)
            used[nused++] = s->port;
        read_deps(fy_node_mapping_lookup_by_string(node, "depends_on", FY_NT), &known, &s->deps);
    }
    /* otap refuses a service that depends on itself or a cycle: drop the edge that closes it */
    for (size_t i = 0; i < n; i++) {
        struct svc *s = &all[i];
        size_t k = 0;
        for (size_t d = 0; d < s->deps.n; d++) {
            struct svc *dep = svc_find(all, n, s->deps.items[d]);
            if (dep && reaches(all, n, dep, s, 0)) {
                strvec_pushf(&a->notes, "%s: '%s' depends on '%s', which depends on it: left out",
                             rel, s->name, s->deps.items[d]);
                free(s->deps.items[d]);
            } else {
                s->deps.items[k++] = s->deps.items[d];
            }
        }
        s->deps.n = k;
    }
    for (size_t i = 0; i < n; i++) {
        struct svc *s = &all[i];
        strbuf_addf(&a->services, "  %s:   # %s: service %s\n", s->name, rel, s->name);
        if (s->port)
            strbuf_addf(&a->services, "    port: %d   # %s\n", s->port, s->port_why);
        if (s->deps.n) {
            strbuf_addstr(&a->services, "    depends_on: [");
            for (size_t d = 0; d < s->deps.n; d++)
                strbuf_addf(&a->services, "%s%s", d ? ", " : "", s->deps.items[d]);
            strbuf_addstr(&a->services, "]\n");
        }
        if (s->path)
            strbuf_addf(&a->services, "    health: { liveness: \"%s\" }   # its healthcheck\n",
                        s->path);
        a->nservices++;
        free(s->name);
        free(s->path);
        strvec_release(&s->deps);
    }
    free(all);
    strvec_release(&known);
    fy_document_destroy(doc);
    free(text);
}

/* ---- the port registry: PORT_REGISTRY.yaml --------------------------------- */

struct block {
    char *name, *purpose;
    long lo, hi;
    bool written;
};

/* "9000-9005" (or a single port) as a range; false when it is not one. */
static bool parse_range(const char *s, long *lo, long *hi)
{
    long long a, b;
    const char *dash = s ? strchr(s, '-') : NULL;
    if (!s)
        return false;
    if (!dash) {
        if (!digits(s) || num_parse_ll(s, &a) < 0)
            return false;
        b = a;
    } else {
        char *left = xstrndup(s, (size_t)(dash - s));
        bool ok = digits(left) && digits(dash + 1) && num_parse_ll(left, &a) == 0 &&
                  num_parse_ll(dash + 1, &b) == 0;
        free(left);
        if (!ok)
            return false;
    }
    if (a < 1 || b > 65535 || a > b)
        return false;
    *lo = (long)a;
    *hi = (long)b;
    return true;
}

/* What may stand in a purpose "..." written back: no quote, backslash or control byte. */
static char *purpose_text(const char *s)
{
    char *p = xstrdup(s ? s : "");
    for (char *c = p; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = ' ';
    return p;
}

/*
 * Every entry with a range (a mapping's "range" or "ports", "9000-9005"),
 * under "blocks" when the file has that key, else at the top; the top's
 * own "range" is the registry's.
 */
static void read_registry(const char *dir, struct adopt *a, bool *failed)
{
    static const char *const names[] = {"PORT_REGISTRY.yaml", ".ai/project/PORT_REGISTRY.yaml",
                                        "PORT_REGISTRY.yml", NULL};
    const char *rel = NULL;
    size_t len = 0;
    char *text = slurp_first(dir, names, &rel, &len, failed);
    if (!text)
        return;
    struct fy_node *root;
    struct fy_document *doc = yaml_mapping(text, len, &root);
    if (!root) {
        strvec_pushf(&a->notes, "%s: not read: not a YAML mapping in UTF-8", rel);
        fy_document_destroy(doc);
        free(text);
        return;
    }
    strvec_push(&a->read, rel);
    struct fy_node *blocks = fy_node_mapping_lookup_by_string(root, "blocks", FY_NT);
    if (!blocks || fy_node_get_type(blocks) != FYNT_MAPPING)
        blocks = root;
    struct block *bs = NULL;
    size_t n = 0, alloc = 0;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(blocks, &it))) {
        const char *name = scalar(fy_node_pair_key(pair));
        struct fy_node *v = fy_node_pair_value(pair);
        if (!name || !v || fy_node_get_type(v) != FYNT_MAPPING)
            continue;
        const char *r = scalar(fy_node_mapping_lookup_by_string(v, "range", FY_NT));
        if (!r)
            r = scalar(fy_node_mapping_lookup_by_string(v, "ports", FY_NT));
        long lo, hi;
        if (!r || !parse_range(r, &lo, &hi))
            continue;
        if (!service_name_ok(name)) {
            strvec_pushf(&a->notes, "%s: block '%s' left out: name it in lower case", rel, name);
            continue;
        }
        const char *purpose = scalar(fy_node_mapping_lookup_by_string(v, "purpose", FY_NT));
        if (!purpose)
            purpose = scalar(fy_node_mapping_lookup_by_string(v, "description", FY_NT));
        *XPUSH(&bs, &n, &alloc) =
            (struct block){xstrdup(name), purpose_text(purpose), lo, hi, false};
    }
    /* wider blocks first, so a nested one finds the block it is within */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && (bs[k - 1].lo > bs[k].lo ||
                                     (bs[k - 1].lo == bs[k].lo && bs[k - 1].hi < bs[k].hi));
             k--) {
            struct block t = bs[k];
            bs[k] = bs[k - 1];
            bs[k - 1] = t;
        }
    long lo = 0, hi = 0;
    const char *top = scalar(fy_node_mapping_lookup_by_string(root, "range", FY_NT));
    bool have_top = top && parse_range(top, &lo, &hi);
    for (size_t i = 0; i < n && !have_top; i++) {
        lo = i == 0 || bs[i].lo < lo ? bs[i].lo : lo;
        hi = i == 0 || bs[i].hi > hi ? bs[i].hi : hi;
    }
    if (n) {
        strbuf_addf(&a->ports, "  range: %ld-%ld   # %s%s\n  blocks:\n", lo, hi, rel,
                    have_top ? "" : ": from its blocks");
        for (size_t i = 0; i < n; i++) {
            /* nested in an earlier block: within it; crossing one: left out */
            const char *within = NULL;
            bool crossing = bs[i].lo < lo || bs[i].hi > hi;
            for (size_t k = 0; k < i && !crossing; k++) {
                if (!bs[k].written)
                    continue;
                bool apart = bs[i].hi < bs[k].lo || bs[i].lo > bs[k].hi;
                bool inside = bs[i].lo >= bs[k].lo && bs[i].hi <= bs[k].hi;
                if (inside && !within)
                    within = bs[k].name;
                else if (!apart && !inside)
                    crossing = true;
            }
            if (crossing) {
                strvec_pushf(&a->notes,
                             "%s: block '%s' (%ld-%ld) crosses another or the "
                             "range: left out",
                             rel, bs[i].name, bs[i].lo, bs[i].hi);
                continue;
            }
            bs[i].written = true;
            strbuf_addf(&a->ports, "    %s: { range: %ld-%ld", bs[i].name, bs[i].lo, bs[i].hi);
            if (within)
                strbuf_addf(&a->ports, ", within: %s", within);
            if (*bs[i].purpose)
                strbuf_addf(&a->ports, ", purpose: \"%s\"", bs[i].purpose);
            strbuf_addstr(&a->ports, " }\n");
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(bs[i].name);
        free(bs[i].purpose);
    }
    free(bs);
    fy_document_destroy(doc);
    free(text);
}

/* ---- migrations --------------------------------------------------------- */

/* A directory named "versions" beside an env.py, up to three levels down: Alembic's. */
static char *find_alembic(const char *dir, const char *rel, int depth)
{
    if (depth > 3)
        return NULL;
    char *path = rel ? xasprintf("%s/%s", dir, rel) : xstrdup(dir);
    DIR *d = opendir(path);
    free(path);
    if (!d)
        return NULL;
    char *found = NULL;
    struct dirent *de;
    bool env_py = false, versions = false;
    struct strvec subdirs = STRVEC_INIT;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, "node_modules"))
            continue;
        char *sub = rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        env_py |= !strcmp(de->d_name, "env.py");
        if (is_dir(dir, sub)) {
            versions |= !strcmp(de->d_name, "versions");
            strvec_push(&subdirs, sub);
        }
        free(sub);
    }
    closedir(d);
    if (env_py && versions && rel)
        found = xasprintf("%s/versions", rel);
    for (size_t i = 0; i < subdirs.n && !found; i++)
        found = find_alembic(dir, subdirs.items[i], depth + 1);
    strvec_release(&subdirs);
    return found;
}

/* Which driver the Python code names, for the URL Alembic gets (database.tool_scheme). */
static const char *python_driver(const char *dir, bool *failed)
{
    static const char *const files[] = {"pyproject.toml", "requirements.txt",
                                        "backend/pyproject.toml", "backend/requirements.txt", NULL};
    const char *scheme = NULL;
    for (int i = 0; files[i] && !scheme; i++) {
        size_t len;
        char *text = slurp(dir, files[i], &len, failed);
        if (!text)
            continue;
        scheme = has(text, "asyncpg")    ? "postgresql+asyncpg"
                 : has(text, "psycopg2") ? "postgresql+psycopg2"
                 : has(text, "psycopg")  ? "postgresql+psycopg"
                                         : NULL;
        free(text);
    }
    return scheme;
}

static void read_migrations(const char *dir, struct adopt *a, const struct vars *v, bool *failed)
{
    const char *url = NULL;
    for (size_t i = 0; i < v->n && !url; i++)
        if (!strcmp(v->items[i].name, "DATABASE_URL"))
            url = v->items[i].name;
    char *alembic = find_alembic(dir, NULL, 0);
    bool dbmate = is_dir(dir, "db/migrations");
    if (!url) {
        if (alembic || dbmate)
            strvec_pushf(&a->notes,
                         "migrations in %s, but no DATABASE_URL in the dotenv files: "
                         "add it to config and a database section",
                         alembic ? alembic : "db/migrations");
        free(alembic);
        return;
    }
    strbuf_addf(&a->database, "  url: DATABASE_URL\n  migrations: db/migrations%s\n",
                dbmate ? "   # dbmate's folder: otap reads it as it is" : "");
    if (alembic) {
        const char *scheme = python_driver(dir, failed);
        if (scheme)
            strbuf_addf(&a->database,
                        "  tool_scheme: %s   # the driver the Python code names, for Alembic\n",
                        scheme);
        strvec_pushf(&a->notes,
                     "Alembic migrations in %s: run them with 'otap db guard --env ENV -- "
                     "alembic upgrade head'; 'otap db lint' reads the SQL of "
                     "'alembic upgrade head --sql'",
                     alembic);
    }
    if (is_dir(dir, "prisma/migrations"))
        strvec_push(&a->notes, "Prisma migrations in prisma/migrations: run them with 'otap db "
                               "guard --env ENV -- npx prisma migrate deploy'");
    if (is_dir(dir, "src/main/resources/db/migration") || is_dir(dir, "db/migration"))
        strvec_push(&a->notes, "Flyway migrations: run them with 'otap db guard --env ENV -- "
                               "flyway migrate'; 'otap db lint' reads their SQL");
    free(alembic);
}

/* ---- gates: package.json scripts ---------------------------------------- */

static void read_scripts(const char *dir, const char *sub, struct adopt *a, bool *failed)
{
    char *rel = sub ? xasprintf("%s/package.json", sub) : xstrdup("package.json");
    size_t len;
    char *text = slurp(dir, rel, &len, failed);
    json_t *root = text ? json_loadb(text, len, 0, NULL) : NULL;
    json_t *scripts = json_object_get(root, "scripts");
    if (text)
        strvec_push(&a->read, rel);
    static const char *const wanted[] = {"lint", "typecheck", "type-check", "test", "build", NULL};
    for (int i = 0; wanted[i] && json_is_object(scripts); i++) {
        if (!json_is_string(json_object_get(scripts, wanted[i])))
            continue;
        char *name = sub ? xasprintf("%s-%s", sub, wanted[i]) : xstrdup(wanted[i]);
        for (char *c = name; *c; c++)
            if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-'))
                *c = '-';
        if (sub)
            strbuf_addf(&a->gates,
                        "  - name: %s   # %s: script %s\n    run: \"npm --prefix %s run %s\"\n",
                        name, rel, wanted[i], sub, wanted[i]);
        else
            strbuf_addf(&a->gates, "  - name: %s   # %s: script %s\n    run: \"npm run %s\"\n",
                        name, rel, wanted[i], wanted[i]);
        strvec_push_owned(&a->gate_names, name);
        a->ngates++;
    }
    json_decref(root);
    free(text);
    free(rel);
}

/* In a stable order, whatever readdir gives. */
static void sort_names(struct strvec *v)
{
    for (size_t i = 1; i < v->n; i++)
        for (size_t k = i; k > 0 && strcmp(v->items[k - 1], v->items[k]) > 0; k--) {
            char *t = v->items[k];
            v->items[k] = v->items[k - 1];
            v->items[k - 1] = t;
        }
}

/* A folder name that can stand in a gate's command and name unquoted. */
static bool safe_dir_name(const char *s)
{
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("._-", *s)))
            return false;
    return true;
}

/* One workflow: the branches a push runs it on, and its jobs' names. */
static void read_workflow(const char *dir, const char *name, struct adopt *a, struct strbuf *jobs,
                          bool *failed)
{
    char *rel = xasprintf(".github/workflows/%s", name);
    size_t len = 0;
    char *text = slurp(dir, rel, &len, failed);
    struct fy_node *root = NULL;
    struct fy_document *doc = text ? yaml_mapping(text, len, &root) : NULL;
    if (root) {
        struct fy_node *on = fy_node_mapping_lookup_by_string(root, "on", FY_NT);
        struct fy_node *push = on && fy_node_get_type(on) == FYNT_MAPPING
                                   ? fy_node_mapping_lookup_by_string(on, "push", FY_NT)
                                   : NULL;
        struct fy_node *branches = push && fy_node_get_type(push) == FYNT_MAPPING
                                       ? fy_node_mapping_lookup_by_string(push, "branches", FY_NT)
                                       : NULL;
        if (branches && fy_node_get_type(branches) == FYNT_SEQUENCE) {
            void *it = NULL;
            struct fy_node *b;
            while ((b = fy_node_sequence_iterate(branches, &it)))
                if (scalar(b) && safe_dir_name(scalar(b)) && !in_list(&a->push_branches, scalar(b)))
                    strvec_push(&a->push_branches, scalar(b));
        }
        struct fy_node *jl = fy_node_mapping_lookup_by_string(root, "jobs", FY_NT);
        if (jl && fy_node_get_type(jl) == FYNT_MAPPING) {
            strbuf_addf(jobs, "%s%s (", jobs->len ? "; " : "", name);
            void *it = NULL;
            struct fy_node_pair *p;
            int k = 0;
            while ((p = fy_node_mapping_iterate(jl, &it)))
                if (scalar(fy_node_pair_key(p)))
                    strbuf_addf(jobs, "%s%s", k++ ? ", " : "", scalar(fy_node_pair_key(p)));
            strbuf_addch(jobs, ')');
        }
    }
    fy_document_destroy(doc);
    free(text);
    free(rel);
}

static void list_workflows(const char *dir, struct adopt *a, bool *failed)
{
    char *path = xasprintf("%s/.github/workflows", dir);
    DIR *d = opendir(path);
    free(path);
    if (!d)
        return;
    struct strvec names = STRVEC_INIT;
    struct dirent *de;
    while ((de = readdir(d)))
        if (ends(de->d_name, ".yml") || ends(de->d_name, ".yaml"))
            strvec_push(&names, de->d_name);
    closedir(d);
    sort_names(&names);
    struct strbuf jobs = STRBUF_INIT;
    for (size_t i = 0; i < names.n; i++)
        read_workflow(dir, names.items[i], a, &jobs, failed);
    if (jobs.len)
        strvec_pushf(&a->notes,
                     ".github/workflows, with their jobs: %s. Name the checks among "
                     "them as gates (gates: - name, run) and record each result with "
                     "'otap gate record'",
                     jobs.buf);
    strbuf_release(&jobs);
    strvec_release(&names);
}

int adopt_read(const char *dir, struct adopt *a, struct diag_list *diags, struct otap_err *err)
{
    memset(a, 0, sizeof(*a));
    bool failed = false;
    struct vars v = {0};
    static const char *const dotenvs[] = {".env.example", ".env.sample", ".env.template",
                                          ".env.dist",    ".env",        NULL};
    for (int i = 0; dotenvs[i]; i++)
        read_dotenv(dir, dotenvs[i], &v, a, diags, &failed);
    struct strvec required = STRVEC_INIT;
    read_compose(dir, a, &required, diags, &failed);
    for (size_t i = 0; i < v.n; i++) {
        bool req = false;
        for (size_t k = 0; k < required.n && !req; k++)
            req = !strcmp(required.items[k], v.items[i].name);
        if (strcmp(v.items[i].name, "ENVIRONMENT"))
            emit_var(a, &v.items[i], req);
    }
    read_registry(dir, a, &failed);
    read_migrations(dir, a, &v, &failed);
    read_scripts(dir, NULL, a, &failed);
    DIR *d = opendir(dir);
    struct dirent *de;
    struct strvec subs = STRVEC_INIT;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' && strcmp(de->d_name, "node_modules") &&
            safe_dir_name(de->d_name) && is_dir(dir, de->d_name))
            strvec_push(&subs, de->d_name);
    if (d)
        closedir(d);
    sort_names(&subs);
    for (size_t i = 0; i < subs.n; i++)
        read_scripts(dir, subs.items[i], a, &failed);
    strvec_release(&subs);
    list_workflows(dir, a, &failed);
    for (size_t i = 0; i < v.n; i++) {
        free(v.items[i].name);
        free(v.items[i].value);
        free(v.items[i].from);
    }
    free(v.items);
    strvec_release(&required);
    if (failed)
        return otap_err_set(err, OTAP_EEXTERNAL, "a file of the repository cannot be read");
    return a->nvars || a->nservices || a->ngates || a->database.len || a->ports.len ? 1 : 0;
}

static void requires(struct strbuf *out, const struct adopt *a, bool signoff)
{
    if (!a->gate_names.n && !signoff)
        return;
    strbuf_addstr(out, "    requires: [");
    for (size_t i = 0; i < a->gate_names.n; i++)
        strbuf_addf(out, "%s%s", i ? ", " : "", a->gate_names.items[i]);
    strbuf_addf(out, "%s]\n", signoff ? (a->gate_names.n ? ", signoff" : "signoff") : "");
}

void adopt_manifest(const struct adopt *a, const char *project, struct strbuf *out)
{
    strbuf_addf(out, "# otap.yaml: the single source of truth for %s\n", project);
    strbuf_addstr(out, "# Written by 'otap init' from what this repository already has:");
    for (size_t i = 0; i < a->read.n; i++)
        strbuf_addf(out, "%s %s", i ? "," : "", a->read.items[i]);
    strbuf_addstr(out,
                  ".\n# Every guess says where it came from: review them, then 'otap check'.\n");
    strbuf_addf(out, "project: %s\n\n", project);
    /* the trunk the workflows run on: master where they name it and not main */
    bool master = in_list(&a->push_branches, "master") && !in_list(&a->push_branches, "main");
    const char *test_branch = in_list(&a->push_branches, "develop") ? "develop" : "dev";
    strbuf_addstr(out, "# The fixed promotion order: O -> T -> A -> P.\nenvironments:\n"
                       "  - name: development\n"
                       "    branches: [\"feature/*\", \"fix/*\", \"chore/*\", \"hotfix/*\"]\n"
                       "    marker: dev\n");
    strbuf_addf(out, "  - name: test\n    branches: [%s]%s\n    marker: dev\n", test_branch,
                strcmp(test_branch, "dev") ? "   # the workflows run on it" : "");
    requires(out, a, false);
    strbuf_addstr(out, "  - name: staging\n    branches: [staging]\n    marker: dev\n");
    requires(out, a, false);
    strbuf_addf(out,
                "    # deploy: { run: \"...\", timeout: 300s }   # how staging deploys\n"
                "  - name: production\n    branches: [%s]%s\n    marker: prod\n",
                master ? "master" : "main", master ? "   # the workflows' trunk" : "");
    requires(out, a, true);
    strbuf_addstr(out,
                  "    protected: true\n"
                  "    # deploy: { run: \"...\", timeout: 300s }   # how production deploys\n");
    if (a->ngates)
        strbuf_addf(out, "\ngates:\n%s", a->gates.buf);
    if (a->nservices)
        strbuf_addf(out, "\nservices:\n%s", a->services.buf);
    if (a->ports.len)
        strbuf_addf(out, "\nports:\n%s", a->ports.buf);
    strbuf_addstr(out, "\nconfig:\n"
                       "  ENVIRONMENT:\n"
                       "    type: enum\n"
                       "    values: [development, test, staging, production]\n"
                       "    required: true\n"
                       "    description: \"Which OTAP stage this process runs in\"\n");
    if (a->nvars)
        strbuf_addstr(out, a->config.buf);
    if (a->database.len)
        strbuf_addf(out, "\ndatabase:\n%s", a->database.buf);
    if (a->notes.n) {
        strbuf_addstr(out, "\n# Seen, not written as YAML:\n");
        for (size_t i = 0; i < a->notes.n; i++) {
            /* a note quotes names from the repository: a line break there would end the
             * comment and write YAML */
            strbuf_addstr(out, "# - ");
            for (const char *c = a->notes.items[i]; *c; c++)
                strbuf_addch(out, (unsigned char)*c < 0x20 ? ' ' : *c);
            strbuf_addch(out, '\n');
        }
    }
}

void adopt_release(struct adopt *a)
{
    strvec_release(&a->read);
    strbuf_release(&a->config);
    strbuf_release(&a->services);
    strbuf_release(&a->gates);
    strbuf_release(&a->database);
    strbuf_release(&a->ports);
    strvec_release(&a->gate_names);
    strvec_release(&a->push_branches);
    strvec_release(&a->notes);
    memset(a, 0, sizeof(*a));
}

/*
 * Reading a task list (tasks.h): YAML through the one YAML reader, CSV
 * by RFC 4180 (quoted fields, doubled quotes, line breaks inside quotes).
 */
#include "plan/tasks.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/num.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "manifest/yaml.h"
#include "base/banned.h"

static const char *const columns[] = {"id",      "title", "package",     "impact", "risk",
                                      "depends", "loc",   "deliverable", "tests",  NULL};
enum { C_ID, C_TITLE, C_PACKAGE, C_IMPACT, C_RISK, C_DEPENDS, C_LOC, C_DELIVERABLE, C_TESTS };

const char *plan_level_name(int level)
{
    return level == 0 ? "H" : level == 2 ? "L" : "M";
}

static int column_of(const char *name)
{
    for (int i = 0; columns[i]; i++)
        if (!strcasecmp(columns[i], name))
            return i;
    return -1;
}

static int level_of(const char *s)
{
    if (!strcasecmp(s, "H") || !strcasecmp(s, "high"))
        return 0;
    if (!strcasecmp(s, "M") || !strcasecmp(s, "medium"))
        return 1;
    if (!strcasecmp(s, "L") || !strcasecmp(s, "low"))
        return 2;
    return -1;
}

static char *trimmed(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

static void add_depend(struct plan_task *t, const char *id, size_t n, int line)
{
    char *d = trimmed(id, n);
    if (!*d || !strcmp(d, "-")) { /* the seed writes "-" for none */
        free(d);
        return;
    }
    t->depends = xrealloc(t->depends, (t->ndepends + 1) * sizeof(char *));
    t->depends_line = xrealloc(t->depends_line, (t->ndepends + 1) * sizeof(int));
    t->depends[t->ndepends] = d;
    t->depends_line[t->ndepends++] = line;
}

/* "A, B; C" as dependencies */
static void add_depends_text(struct plan_task *t, const char *s, int line)
{
    while (*s) {
        size_t n = strcspn(s, ",; \t\n");
        if (n)
            add_depend(t, s, n, line);
        s += n;
        s += strspn(s, ",; \t\n");
    }
}

/* One field's value into the task; problems with the line. */
static void set_field(struct plan_task *t, int col, const char *v, int line, const char *name,
                      struct diag_list *d)
{
    char **strs[] = {[C_ID] = &t->id,
                     [C_TITLE] = &t->title,
                     [C_PACKAGE] = &t->package,
                     [C_DELIVERABLE] = &t->deliverable,
                     [C_TESTS] = &t->tests};
    switch (col) {
    case C_IMPACT:
    case C_RISK: {
        int lv = level_of(v);
        if (*v && lv < 0)
            diag_add_at(d, DIAG_ERROR, name, line, 0, "%s '%s' is not H, M or L", columns[col], v);
        else if (*v)
            *(col == C_IMPACT ? &t->impact : &t->risk) = lv;
        return;
    }
    case C_LOC: {
        long long n;
        if (*v && (num_parse_ll(v, &n) < 0 || n < 0 || n > 100000000))
            diag_add_at(d, DIAG_ERROR, name, line, 0, "loc '%s' is not a count of lines", v);
        else if (*v)
            t->loc = (long)n;
        return;
    }
    case C_DEPENDS:
        add_depends_text(t, v, line);
        return;
    default:
        free(*strs[col]);
        *strs[col] = trimmed(v, strlen(v));
    }
}

static struct plan_task *new_task(struct plan_tasks *out, int line)
{
    struct plan_task *t = XPUSH(&out->items, &out->n, &out->alloc);
    memset(t, 0, sizeof(*t));
    t->impact = t->risk = 1;
    t->line = line;
    return t;
}

/* ---- YAML
 * ---------------------------------------------------------------------------------------- */

static void read_yaml(const char *data, size_t len, const char *name, struct plan_tasks *out,
                      struct diag_list *d)
{
    struct fy_document *doc = yaml_load(data, len, "the task list", d);
    if (!doc)
        return;
    struct fy_node *root = fy_document_root(doc);
    struct fy_node *tasks = root && fy_node_get_type(root) == FYNT_MAPPING
                                ? fy_node_mapping_lookup_by_string(root, "tasks", 5)
                                : NULL;
    if (!tasks || fy_node_get_type(tasks) != FYNT_SEQUENCE) {
        diag_add_at(d, DIAG_ERROR, name, root ? yaml_line(root) : 1, 0,
                    "a task list is 'tasks:' with a list of { id, title, depends, loc, ... }");
        fy_document_destroy(doc);
        return;
    }
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(tasks, &it))) {
        int line = yaml_line(item);
        if (fy_node_get_type(item) != FYNT_MAPPING) {
            diag_add_at(d, DIAG_ERROR, name, line, 0, "a task is a mapping { id, title, ... }");
            continue;
        }
        struct plan_task *t = new_task(out, line);
        void *it2 = NULL;
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(item, &it2))) {
            const char *k = yaml_scalar(fy_node_pair_key(p));
            struct fy_node *v = fy_node_pair_value(p);
            int vline = v ? yaml_line(v) : line;
            int col = k ? column_of(k) : -1;
            if (col < 0) {
                diag_add_at(d, DIAG_ERROR, name, yaml_line(fy_node_pair_key(p)), 0,
                            "unknown key '%s' in a task (id, title, package, impact, risk, "
                            "depends, loc, deliverable, tests)",
                            k ? k : "?");
                continue;
            }
            if (col == C_DEPENDS && v && fy_node_get_type(v) == FYNT_SEQUENCE) {
                void *it3 = NULL;
                struct fy_node *dep;
                while ((dep = fy_node_sequence_iterate(v, &it3))) {
                    const char *s = yaml_scalar(dep);
                    if (s)
                        add_depend(t, s, strlen(s), yaml_line(dep));
                    else
                        diag_add_at(d, DIAG_ERROR, name, yaml_line(dep), 0,
                                    "a dependency is a task id");
                }
                continue;
            }
            const char *s = yaml_scalar(v);
            if (!s && v && fy_node_get_type(v) != FYNT_SCALAR) {
                diag_add_at(d, DIAG_ERROR, name, vline, 0, "'%s' is a single value", k);
                continue;
            }
            set_field(t, col, s ? s : "", vline, name, d);
        }
    }
    fy_document_destroy(doc);
}

/* ---- CSV
 * ----------------------------------------------------------------------------------------- */

struct csv {
    const char *p, *end;
    int line;
};

/*
 * The next record's fields (owned strings) into *fields; the line it
 * starts on in *line. 0 at the end, -1 for a quote left open.
 */
static int csv_record(struct csv *c, char ***fields, size_t *n, int *line)
{
    *fields = NULL;
    *n = 0;
    size_t alloc = 0;
    /* blank lines between records are passed over */
    while (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
        c->line += *c->p == '\n';
        c->p++;
    }
    if (c->p >= c->end)
        return 0;
    *line = c->line;
    struct strbuf f = STRBUF_INIT;
    for (;;) {
        strbuf_reset(&f);
        strbuf_addstr(&f, "");
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            for (;;) {
                if (c->p >= c->end) {
                    strbuf_release(&f);
                    xfree_strv(*fields, *n);
                    *fields = NULL;
                    *n = 0;
                    return -1;
                }
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        strbuf_addch(&f, '"');
                        c->p += 2;
                        continue;
                    }
                    c->p++;
                    break;
                }
                c->line += *c->p == '\n';
                strbuf_addch(&f, *c->p++);
            }
            /* what follows a closing quote up to the separator is kept, as most readers do */
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
                strbuf_addch(&f, *c->p++);
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
                strbuf_addch(&f, *c->p++);
        }
        *XPUSH(fields, n, &alloc) = strbuf_detach(&f, NULL);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '\r')
            c->p++;
        if (c->p < c->end && *c->p == '\n') {
            c->p++;
            c->line++;
        }
        strbuf_release(&f);
        return 1;
    }
}

static void read_csv(const char *data, size_t len, const char *name, struct plan_tasks *out,
                     struct diag_list *d)
{
    struct csv c = {data, data + len, 1};
    /* a UTF-8 byte order mark, as spreadsheets write */
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
        c.p += 3;
    char **head;
    size_t nh;
    int line;
    int rc = csv_record(&c, &head, &nh, &line);
    if (rc <= 0) {
        diag_add_at(d, DIAG_ERROR, name, 1, 0,
                    rc < 0 ? "a quote is never closed" : "the task list is empty");
        return;
    }
    int *cols = xcalloc(nh, sizeof(int));
    bool have_id = false;
    for (size_t i = 0; i < nh; i++) {
        char *h = trimmed(head[i], strlen(head[i]));
        cols[i] = column_of(h);
        if (cols[i] < 0)
            diag_add_at(d, DIAG_ERROR, name, line, (int)i + 1,
                        "unknown column '%s' (id, title, package, impact, risk, depends, loc, "
                        "deliverable, tests)",
                        h);
        have_id |= cols[i] == C_ID;
        free(h);
    }
    xfree_strv(head, nh);
    if (!have_id)
        diag_add_at(d, DIAG_ERROR, name, line, 0, "the header has no 'id' column");
    char **f;
    size_t nf;
    while ((rc = csv_record(&c, &f, &nf, &line)) > 0) {
        if (nf > nh)
            diag_add_at(d, DIAG_ERROR, name, line, 0, "%zu fields, but the header names %zu", nf,
                        nh);
        struct plan_task *t = new_task(out, line);
        for (size_t i = 0; i < nf && i < nh; i++)
            if (cols[i] >= 0)
                set_field(t, cols[i], f[i], line, name, d);
        xfree_strv(f, nf);
    }
    if (rc < 0)
        diag_add_at(d, DIAG_ERROR, name, line, 0, "a quote opened in this record is never closed");
    free(cols);
}

size_t plan_tasks_read(const char *data, size_t len, const char *name, struct plan_tasks *out,
                       struct diag_list *diags)
{
    memset(out, 0, sizeof(*out));
    size_t before = diag_count(diags, DIAG_ERROR);
    if (len > PLAN_TASKS_MAX_BYTES) {
        diag_add_at(diags, DIAG_ERROR, name, 0, 0, "the task list is larger than %u bytes",
                    PLAN_TASKS_MAX_BYTES);
        return 1;
    }
    size_t nl = strlen(name);
    if (nl > 4 && !strcasecmp(name + nl - 4, ".csv"))
        read_csv(data, len, name, out, diags);
    else
        read_yaml(data, len, name, out, diags);
    for (size_t i = 0; i < out->n; i++)
        if (!out->items[i].id || !*out->items[i].id)
            diag_add_at(diags, DIAG_ERROR, name, out->items[i].line, 0, "a task without an id");
    return diag_count(diags, DIAG_ERROR) - before;
}

void plan_tasks_release(struct plan_tasks *t)
{
    for (size_t i = 0; i < t->n; i++) {
        struct plan_task *x = &t->items[i];
        free(x->id);
        free(x->title);
        free(x->package);
        free(x->deliverable);
        free(x->tests);
        xfree_strv(x->depends, x->ndepends);
        free(x->depends_line);
    }
    free(t->items);
    memset(t, 0, sizeof(*t));
}

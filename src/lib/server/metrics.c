/*
 * The metrics registry behind GET /metrics.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/metrics.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct series {
    char *labels;
    double value; /* counter, gauge */
    unsigned long long buckets[NBUCKETS];
    unsigned long long count;
    double sum;
};

struct family {
    char *name, *help;
    enum metric_type type;
    struct series *series;
    size_t n, alloc;
};

struct collector {
    metrics_collector fn;
    void *ctx;
};

struct metrics {
    pthread_mutex_t lock;
    struct family *families;
    size_t n, alloc;
    struct collector *collectors;
    size_t ncollectors, collectors_alloc;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        struct family *f = &m->families[i];
        for (size_t j = 0; j < f->n; j++)
            free(f->series[j].labels);
        free(f->series);
        free(f->name);
        free(f->help);
    }
    free(m->families);
    free(m->collectors);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* Under the lock: the series, made on first use. */
static struct series *find(struct metrics *m, const char *name, const char *help,
                           enum metric_type type, const char *labels)
{
    struct family *f = NULL;
    for (size_t i = 0; i < m->n && !f; i++)
        if (!strcmp(m->families[i].name, name))
            f = &m->families[i];
    if (!f) {
        f = XPUSH(&m->families, &m->n, &m->alloc);
        memset(f, 0, sizeof(*f));
        f->name = xstrdup(name);
        f->help = xstrdup(help);
        f->type = type;
    }
    if (!labels)
        labels = "";
    for (size_t j = 0; j < f->n; j++)
        if (!strcmp(f->series[j].labels, labels))
            return &f->series[j];
    struct series *s = XPUSH(&f->series, &f->n, &f->alloc);
    memset(s, 0, sizeof(*s));
    s->labels = xstrdup(labels);
    return s;
}

void metrics_counter_add(struct metrics *m, const char *name, const char *help, const char *labels,
                         double v)
{
    pthread_mutex_lock(&m->lock);
    find(m, name, help, METRIC_COUNTER, labels)->value += v;
    pthread_mutex_unlock(&m->lock);
}

void metrics_gauge_set(struct metrics *m, const char *name, const char *help, const char *labels,
                       double v)
{
    pthread_mutex_lock(&m->lock);
    find(m, name, help, METRIC_GAUGE, labels)->value = v;
    pthread_mutex_unlock(&m->lock);
}

void metrics_gauge_add(struct metrics *m, const char *name, const char *help, const char *labels,
                       double v)
{
    pthread_mutex_lock(&m->lock);
    find(m, name, help, METRIC_GAUGE, labels)->value += v;
    pthread_mutex_unlock(&m->lock);
}

void metrics_observe(struct metrics *m, const char *name, const char *help, const char *labels,
                     double v)
{
    pthread_mutex_lock(&m->lock);
    struct series *s = find(m, name, help, METRIC_HISTOGRAM, labels);
    for (size_t b = 0; b < NBUCKETS; b++)
        if (v <= bucket_bounds[b])
            s->buckets[b]++;
    s->count++;
    s->sum += v;
    pthread_mutex_unlock(&m->lock);
}

void metrics_add_collector(struct metrics *m, metrics_collector fn, void *ctx)
{
    pthread_mutex_lock(&m->lock);
    struct collector *c = XPUSH(&m->collectors, &m->ncollectors, &m->collectors_alloc);
    c->fn = fn;
    c->ctx = ctx;
    pthread_mutex_unlock(&m->lock);
}

char *metrics_escape(const char *v)
{
    struct strbuf sb = STRBUF_INIT;
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            strbuf_addstr(&sb, "\\\\");
        else if (*p == '"')
            strbuf_addstr(&sb, "\\\"");
        else if (*p == '\n')
            strbuf_addstr(&sb, "\\n");
        else
            strbuf_addch(&sb, *p);
    }
    return strbuf_detach(&sb, NULL);
}

static void number(struct strbuf *sb, double v)
{
    if (isinf(v))
        strbuf_addstr(sb, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        strbuf_addf(sb, "%.0f", v);
    else
        strbuf_addf(sb, "%.9g", v);
}

/* name{labels,extra} value */
static void sample(struct strbuf *sb, const char *name, const char *suffix, const char *labels,
                   const char *extra, double v)
{
    strbuf_addf(sb, "%s%s", name, suffix);
    if (*labels || extra) {
        strbuf_addch(sb, '{');
        strbuf_addstr(sb, labels);
        if (extra)
            strbuf_addf(sb, "%s%s", *labels ? "," : "", extra);
        strbuf_addch(sb, '}');
    }
    strbuf_addch(sb, ' ');
    number(sb, v);
    strbuf_addch(sb, '\n');
}

char *metrics_render(struct metrics *m)
{
    /* collectors set their gauges through the public calls: run them unlocked */
    pthread_mutex_lock(&m->lock);
    size_t nc = m->ncollectors;
    struct collector *cs = xcalloc(nc ? nc : 1, sizeof(*cs));
    if (nc)
        memcpy(cs, m->collectors, nc * sizeof(*cs));
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < nc; i++)
        cs[i].fn(m, cs[i].ctx);
    free(cs);

    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    struct strbuf sb = STRBUF_INIT;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n; i++) {
        const struct family *f = &m->families[i];
        strbuf_addf(&sb, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                    type_names[f->type]);
        for (size_t j = 0; j < f->n; j++) {
            const struct series *s = &f->series[j];
            if (f->type != METRIC_HISTOGRAM) {
                sample(&sb, f->name, "", s->labels, NULL, s->value);
                continue;
            }
            for (size_t b = 0; b < NBUCKETS; b++) {
                char le[48];
                snprintf(le, sizeof(le), "le=\"%g\"", bucket_bounds[b]);
                sample(&sb, f->name, "_bucket", s->labels, le, (double)s->buckets[b]);
            }
            sample(&sb, f->name, "_bucket", s->labels, "le=\"+Inf\"", (double)s->count);
            sample(&sb, f->name, "_sum", s->labels, NULL, s->sum);
            sample(&sb, f->name, "_count", s->labels, NULL, (double)s->count);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return strbuf_detach(&sb, NULL);
}

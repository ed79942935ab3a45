/*
 * A small Prometheus registry: counters, gauges and histograms with
 * labels, rendered in the text exposition format (version 0.0.4).
 *
 * Any module adds its own series by name; the registry is shared by the
 * server's threads and guarded by one mutex (a handful of series, so a
 * linear lookup under the lock costs less than a hash would). Labels are
 * passed preformatted, 'route="/health",status="200"', with values
 * escaped by metrics_escape(). Collectors run at render time, for values
 * that are cheaper to read than to track (the ledger's length...).
 */
#ifndef OTAP_METRICS_H
#define OTAP_METRICS_H

#include <stddef.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

void metrics_counter_add(struct metrics *m, const char *name, const char *help, const char *labels,
                         double v);
void metrics_gauge_set(struct metrics *m, const char *name, const char *help, const char *labels,
                       double v);
void metrics_gauge_add(struct metrics *m, const char *name, const char *help, const char *labels,
                       double v);
/* Buckets (seconds): 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 +Inf */
void metrics_observe(struct metrics *m, const char *name, const char *help, const char *labels,
                     double v);

typedef void (*metrics_collector)(struct metrics *m, void *ctx);
void metrics_add_collector(struct metrics *m, metrics_collector fn, void *ctx);

/* The text format; caller frees. */
char *metrics_render(struct metrics *m);

/* A label value escaped for the text format (\\, \", \n); caller frees. */
char *metrics_escape(const char *v);

#endif

/*
 * bench/flags' in-process half: nanoseconds per evaluation of a static flag
 * and of a fractional split over 4 variants, through otap's evaluator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flags/flag.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void make(struct flag_def *f, size_t nsplit)
{
    static const char *const names[] = {"a", "b", "c", "d"};
    memset(f, 0, sizeof(*f));
    f->key = strdup("bench-flag");
    f->nvariants = 4;
    f->variant_names = calloc(4, sizeof(char *));
    f->variant_values = calloc(4, sizeof(json_t *));
    for (int i = 0; i < 4; i++) {
        f->variant_names[i] = strdup(names[i]);
        f->variant_values[i] = json_string(names[i]);
    }
    f->default_variant = strdup("a");
    f->enabled = true;
    f->split.n = nsplit;
    f->split.variants = calloc(4, sizeof(char *));
    f->split.weights = calloc(4, sizeof(long long));
    for (size_t i = 0; i < nsplit; i++) {
        f->split.variants[i] = strdup(names[i]);
        f->split.weights[i] = 25;
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    json_t **ctx = calloc(1024, sizeof(json_t *));
    for (int i = 0; i < 1024; i++) {
        char id[32];
        snprintf(id, sizeof id, "user-%d", i);
        ctx[i] = json_pack("{s:s}", "targetingKey", id);
    }
    for (size_t split = 0; split <= 4; split += 4) {
        struct flag_def f;
        make(&f, split);
        struct flag_result r;
        unsigned long sink = 0;
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            flag_eval(&f, ctx[i & 1023], &r);
            sink += r.variant[0];
        }
        double ns = (now_ns() - t0) / n;
        printf("%-24s %8.1f ns per evaluation (%lu)\n",
               split ? "split over 4 variants" : "static flag", ns, sink % 7);
        flag_def_release(&f);
    }
    for (int i = 0; i < 1024; i++)
        json_decref(ctx[i]);
    free(ctx);
    return 0;
}

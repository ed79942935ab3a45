/*
 * libFuzzer target for what otap reads from the network: probe answers
 * (bodies judged as health and readiness, timestamps) and request paths
 * matched against route patterns. Any bytes give a verdict or a clean
 * mismatch, never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/http_server.h"
#include "health/probe.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct probe_opts o = PROBE_OPTS_DEFAULT;
    o.environment = "production";
    for (int c = PROBE_LIVENESS; c <= PROBE_URL; c++) {
        char *why = probe_judge((enum probe_check)c, 200, (const char *)data, size, &o, 1795255200);
        free(why);
        why = probe_judge((enum probe_check)c, 503, (const char *)data, size, &o, 1795255200);
        free(why);
    }
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    time_t t;
    (void)probe_parse_time(s, &t);
    static const char *const patterns[] = {"/health", "/api/v2/environments/{name}",
                                           "/api/v2/{a}/x/{b}", "/{a}/{b}/{c}/{d}/{e}"};
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        char *names[HTTP_MAX_PARAMS], *values[HTTP_MAX_PARAMS];
        size_t n = 0;
        if (http_route_match(patterns[i], s, names, values, &n)) {
            if (n > HTTP_MAX_PARAMS)
                abort();
            for (size_t k = 0; k < n; k++) {
                if (!*values[k] || strchr(values[k], '/'))
                    abort();
                free(names[k]);
                free(values[k]);
            }
        } else if (n) {
            abort();
        }
    }
    free(s);
    return 0;
}

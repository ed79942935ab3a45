/*
 * The probe judge and the ISO-8601 reader: what counts as live, healthy
 * and ready, and the reason given when it is not. Table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health/probe.h"

static void test_probe_parse_time(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        long long want; /* -1: malformed */
    } cases[] = {
        {"2026-11-21T10:00:00Z", 1795255200},
        {"2026-11-21T10:00:00", 1795255200},        /* no zone: UTC (Python's utcnow) */
        {"2026-11-21T10:00:00.123456", 1795255200}, /* fractions ignored */
        {"2026-11-21 10:00:00+00:00", 1795255200},
        {"2026-11-21T12:00:00+02:00", 1795255200},
        {"2026-11-21T05:30:00-0430", 1795255200},
        {"2026-11-21T10:00:00z", 1795255200},
        {"2026-11-21", -1},
        {"2026-13-21T10:00:00Z", -1},
        {"2026-11-21T25:00:00Z", -1},
        {"2026-11-21T10:00:00Zjunk", -1},
        {"2026-11-21T10:00:00.Z", -1},
        {"21/11/2026 10:00", -1},
        {"", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        time_t t = 0;
        int rc = probe_parse_time(cases[i].s, &t);
        if (cases[i].want < 0) {
            if (rc == 0)
                fail_msg("'%s' should be malformed", cases[i].s);
        } else if (rc != 0 || (long long)t != cases[i].want) {
            fail_msg("'%s': rc %d, t %lld, want %lld", cases[i].s, rc, (long long)t, cases[i].want);
        }
    }
}

static void test_probe_judge(void **state)
{
    (void)state;
    struct probe_opts o = PROBE_OPTS_DEFAULT;
    o.environment = "staging";
    time_t now = 1795255200; /* 2026-11-21T10:00:00Z */
    static const struct {
        enum probe_check check;
        long status;
        const char *body;
        const char *want; /* NULL: passes; else a prefix of the reason */
    } cases[] = {
        {PROBE_LIVENESS, 200, "anything", NULL},
        {PROBE_LIVENESS, 204, "", "status 204, want 200"},
        {PROBE_URL, 500, "", "status 500, want 200"},
        {PROBE_HEALTH, 200,
         "{\"status\":\"healthy\",\"environment\":\"staging\",\"timestamp\":\"2026-11-21T09:59:"
         "30Z\"}",
         NULL},
        {PROBE_HEALTH, 200,
         "{\"environment\":\"production\",\"timestamp\":\"2026-11-21T10:00:00Z\"}",
         "environment is 'production', want 'staging'"},
        {PROBE_HEALTH, 200, "{\"environment\":\"staging\",\"timestamp\":\"2026-11-21T09:00:00Z\"}",
         "timestamp '2026-11-21T09:00:00Z' is 3600 s old (at most 120 s)"},
        {PROBE_HEALTH, 200, "{\"environment\":\"staging\",\"timestamp\":\"2026-11-21T11:00:00Z\"}",
         "timestamp '2026-11-21T11:00:00Z' is 3600 s in the future"},
        {PROBE_HEALTH, 200, "{\"environment\":\"staging\",\"timestamp\":\"yesterday\"}",
         "timestamp 'yesterday' is not ISO-8601"},
        {PROBE_HEALTH, 200, "{\"environment\":\"staging\"}", "body has no \"timestamp\""},
        {PROBE_HEALTH, 200, "{\"timestamp\":\"2026-11-21T10:00:00Z\"}",
         "body has no \"environment\""},
        {PROBE_HEALTH, 200, "{\"environment\": ", "body is not JSON"},
        {PROBE_HEALTH, 200, "[1,2]", "body is JSON but not an object"},
        {PROBE_READINESS, 200, "{\"status\":\"ready\",\"database\":\"connected\"}", NULL},
        {PROBE_READINESS, 200, "{\"database\":{\"status\":\"connected\",\"latency_ms\":1}}", NULL},
        {PROBE_READINESS, 200, "{\"checks\":{\"database\":\"connected\"}}", NULL},
        {PROBE_READINESS, 200, "{\"status\":\"ready\"}", "body has no database status"},
        {PROBE_READINESS, 200, "{\"database\":\"disconnected\"}",
         "database is 'disconnected', not connected"},
        {PROBE_READINESS, 503, "{\"status\":\"degraded\",\"database\":\"error: timeout\"}",
         "status 503, want 200 (database: error: timeout)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *why = probe_judge(cases[i].check, cases[i].status, cases[i].body,
                                strlen(cases[i].body), &o, now);
        if (!cases[i].want && why)
            fail_msg("case %zu should pass: %s", i, why);
        if (cases[i].want && (!why || strncmp(why, cases[i].want, strlen(cases[i].want))))
            fail_msg("case %zu: want '%s', have '%s'", i, cases[i].want, why ? why : "(pass)");
        free(why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_parse_time),
        cmocka_unit_test(test_probe_judge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

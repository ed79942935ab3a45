/*
 * The monotonic clock behind every duration otap measures (monotime.h),
 * written once instead of at each site that times something.
 */
#include "base/monotime.h"

#include <time.h>

#include "base/banned.h"

long long monotime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long monotime_ms(void)
{
    return monotime_ns() / 1000000;
}

double monotime_seconds_since(long long start_ns)
{
    return (double)(monotime_ns() - start_ns) / 1e9;
}

/*
 * The one monotonic clock: durations, deadlines and timeouts, never the
 * wall clock (which jumps with NTP and the user). Times are counted from
 * an arbitrary start; only differences mean anything.
 */
#ifndef OTAP_MONOTIME_H
#define OTAP_MONOTIME_H

long long monotime_ns(void);
long long monotime_ms(void);
/* Seconds since a monotime_ns() reading. */
double monotime_seconds_since(long long start_ns);

#endif

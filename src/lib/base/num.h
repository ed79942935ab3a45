/*
 * Checked number parsers: the replacements for atoi and friends.
 *
 * Each parses the whole string (no leading or trailing junk, no empty
 * string), writes *out only on success, and returns 0 or -1.
 */
#ifndef OTAP_NUM_H
#define OTAP_NUM_H

int num_parse_ll(const char *s, long long *out);
int num_parse_double(const char *s, double *out);
/* "90", "90s", "5m", "2h", "1d" and combinations such as "1h30m", in seconds. */
int num_parse_duration(const char *s, long long *out);

#endif

/*
 * Probe results as the command layer shows them, shared by 'otap probe'
 * and 'otap wait' (both in probe.c's rendering).
 */
#ifndef OTAP_PROBE_OUT_H
#define OTAP_PROBE_OUT_H

#include "cli.h"
#include "health/probe.h"

json_t *probe_results_json(struct probe *p, size_t n);
/* One line per probe: service, check, pass or FAIL, latency, URL, reason. */
void probe_render_rows(struct cli *cli, json_t *rows, FILE *out);

#endif

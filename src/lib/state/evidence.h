/*
 * What a promotion asks for besides the build itself: gate results (CI
 * reports "lint passed for this build") and acceptance sign-offs. Each is
 * recorded against one build's digest, with its ledger entry in the same
 * transaction; a result for another build never counts.
 */
#ifndef OTAP_EVIDENCE_H
#define OTAP_EVIDENCE_H

#include <jansson.h>
#include <stdbool.h>

#include "state/artifact.h"
#include "base/err.h"
#include "state/store.h"

int gate_record(struct store *s, const struct artifact *a, const char *gate, bool pass,
                const char *url, const char *actor, long long *id, struct otap_err *err);

/*
 * The latest result of gate for the build: *result "pass", "fail" or NULL
 * when none was recorded; *at its time (both new strings or NULL).
 */
int gate_latest(struct store *s, const char *digest, const char *gate, char **result, char **at,
                struct otap_err *err);

int signoff_record(struct store *s, const struct artifact *a, const char *env, const char *by,
                   const char *note, const char *actor, long long *id, struct otap_err *err);

/* Who signed the build off in env (*by NULL when nobody did). */
int signoff_find(struct store *s, const char *digest, const char *env, char **by, char **at,
                 struct otap_err *err);

/*
 * The latest gate results (gate_list) or sign-offs (signoff_list), newest
 * first, of one build (build: a digest or version) or of every build
 * (NULL); at most limit. *out is a new JSON array of objects.
 */
int gate_list(struct store *s, const char *build, long long limit, json_t **out,
              struct otap_err *err);
/* {gate: {result, url, recorded_at}}: the latest CI result of each gate for one build. */
int gate_results_latest(struct store *s, const char *digest, json_t **out, struct otap_err *err);
int signoff_list(struct store *s, const char *build, long long limit, json_t **out,
                 struct otap_err *err);

#endif

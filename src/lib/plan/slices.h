/*
 * The slice registry as otap uses it: read from otap.yaml or the file it
 * names, a slice's scope fence as a prompt (seed 000 §12's template,
 * filled in), and a slice's status changed in place, that one value and
 * no other byte of the file.
 */
#ifndef OTAP_PLAN_SLICES_H
#define OTAP_PLAN_SLICES_H

#include "base/diag.h"
#include "base/err.h"
#include "manifest/manifest.h"

/*
 * The registry: m's own slices, or those of the file it names (loaded into
 * *storage, released by the caller). NULL when the file has problems
 * (in diags).
 */
const struct manifest_slices *plan_slices(const struct manifest *m, struct manifest_slices *storage,
                                          struct diag_list *diags);

/* The scope fence of s as a prompt: objective, allowed paths, non-goals, done, quality gate. */
char *plan_slice_prompt(const struct manifest *m, const struct manifest_slice *s);

/*
 * Writes status for slice s in its registry file (otap.yaml when file is
 * NULL), replacing only the status value's bytes. OTAP_EREFUSED when the
 * slice has no status key, or the file changed since it was read.
 */
int plan_slice_set_status(const struct manifest *m, const struct manifest_slices *reg,
                          const struct manifest_slice *s, const char *status, struct otap_err *err);

#endif

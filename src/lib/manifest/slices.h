/*
 * Slices (seed 000 §7, §11-§12): a platform capability cut into delivery
 * units, each with its scope fence: objective, allowed paths, non-goals,
 * definition of done, and a status. The registry is otap.yaml's slices:
 * mapping, or a YAML file it names (slices: .ai/project/DOMAIN_REGISTRY.yaml)
 * whose slices: mapping has the same shape:
 *
 *   slices:
 *     PLT-DEL-OTAP-001:
 *       domain: platform
 *       feature: otap
 *       objective: "Define the config contract and .env.example"
 *       allowed: ["otap.yaml", ".env.example", "docs/config.md"]
 *       non_goals: ["no new env vars without review"]
 *       done: ["otap env sync --check passes"]
 *       gates: [lint]            # run before 'otap slice done'
 *       status: planned          # planned | in-progress | done
 */
#ifndef OTAP_SLICES_H
#define OTAP_SLICES_H

#include <libfyaml.h>
#include <stddef.h>

#include "base/diag.h"

struct manifest_slice {
    char *id, *domain, *feature, *objective, *status;
    char **allowed, **non_goals, **done, **gates;
    size_t nallowed, nnon_goals, ndone, ngates;
    int line;
    /* where the status value is written, to change it in place */
    size_t status_pos, status_len; /* bytes into the file; status_len 0: no status key */
};

struct manifest_slices {
    struct manifest_slice *items;
    size_t n, alloc;
    char *file; /* the registry file, or NULL: otap.yaml */
};

extern const char *const manifest_slice_statuses[]; /* planned, in-progress, done */

/* Parses a slices: mapping (map), appending to out; problems with lines. */
void manifest_slices_parse(struct fy_node *map, const char *file, struct manifest_slices *out,
                           struct diag_list *d);
/* Reads a registry file's slices: mapping. Returns the number of errors. */
size_t manifest_slices_load(const char *path, const char *shown, struct manifest_slices *out,
                            struct diag_list *d);
void manifest_slices_release(struct manifest_slices *s);
const struct manifest_slice *manifest_slice_find(const struct manifest_slices *s, const char *id);

#endif

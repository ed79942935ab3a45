/*
 * Private to the manifest loader: what its files share. Nothing outside
 * src/lib/manifest/ includes this. Shared functions carry the mf_ prefix;
 * each section file exports its entry (a walk callback and its keys, or a
 * load function) and its cross-reference check, which manifest.c calls
 * once the whole file is read.
 */
#ifndef OTAP_MANIFEST_IMPL_H
#define OTAP_MANIFEST_IMPL_H

#include <libfyaml.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "base/diag.h"
#include "manifest/manifest.h"

struct mf_ctx {
    struct diag_list *d;
    struct manifest *m;
    /* capacities of the manifest's arrays while they grow */
    size_t services_alloc, blocks_alloc, config_alloc, flags_alloc;
};

#define ERR(c, p, ...) diag_add((c)->d, DIAG_ERROR, (p).line, (p).col, __VA_ARGS__)
#define WARN(c, p, ...) diag_add((c)->d, DIAG_WARNING, (p).line, (p).col, __VA_ARGS__)

/*
 * Walks a mapping, checking each key against the allowed list. Calls back
 * with the index of the key in allowed; unknown keys are reported with a
 * suggestion and skipped. Returns false when n is not a mapping.
 */
typedef void (*mf_field_fn)(struct mf_ctx *c, void *obj, int idx, struct fy_node *key,
                            struct fy_node *val, struct manifest_pos kpos);
/*
 * A mapping whose keys are names chosen by the user (services, config
 * variables, flags, blocks). Calls fn(name, value) for each.
 */
typedef void (*mf_entry_fn)(struct mf_ctx *c, const char *name, struct fy_node *val,
                            struct manifest_pos kpos);

/* the walker (manifest_walk.c) */
bool mf_get_str_list(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                     char ***out, size_t *nout);
const char *mf_type_word(struct fy_node *n);
bool mf_is_null(struct fy_node *n);
bool mf_get_duration(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                     long *out);
/* the same for spans of days (retention, drills, flags): at most 366 days */
bool mf_get_long_duration(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p,
                          const char *field, long *out);
bool mf_get_double(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                   double lo, double hi, double *out);
void mf_walk_named(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *what,
                   mf_entry_fn fn);
struct manifest_pos mf_node_pos(struct fy_node *n, struct manifest_pos fallback);
bool mf_get_int(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                long long lo, long long hi, long long *out);
bool mf_walk_map(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *what,
                 const char *const *allowed, mf_field_fn fn, void *obj);
char *mf_get_str(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field);
const char *mf_scalar(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p,
                      const char *field);
bool mf_is_plain(struct fy_node *n);
bool mf_valid_name(const char *s, bool upper);
bool mf_get_bool(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                 bool *out);

/* environments (manifest_envs.c) */
void mf_check_environments(struct mf_ctx *c);
void mf_load_environments(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p);
int mf_stage_from_word(const char *w);

/* services and ports (manifest_services.c) */
void mf_check_services(struct mf_ctx *c);
void mf_check_blocks(struct mf_ctx *c);
extern const char *const mf_ports_keys[];
void mf_ports_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                    struct manifest_pos kp);
void mf_service_entry(struct mf_ctx *c, const char *name, struct fy_node *v,
                      struct manifest_pos kp);

/* config (manifest_config.c) */
void mf_var_entry(struct mf_ctx *c, const char *name, struct fy_node *val, struct manifest_pos kp);
void mf_check_config(struct mf_ctx *c);

/* database, slo, release, gates (manifest_delivery.c) */
extern const char *const mf_release_keys[];
extern const char *const mf_slo_keys[];
void mf_load_gates(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p);
void mf_db_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                 struct manifest_pos kp);
extern const char *const mf_db_keys[];
void mf_slo_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                  struct manifest_pos kp);
void mf_check_database(struct mf_ctx *c);
void mf_release_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp);

/* gates' needs, services and env; policies (manifest_ci.c) */
void mf_check_gates(struct mf_ctx *c);
/* Every gate name a requires or needs may use, for suggestions; NULL-terminated, caller frees. */
const char **mf_gate_names(const struct manifest *m);
void mf_load_policies(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p);
extern const char *const mf_ci_keys[];
/* backups (manifest_backups.c) */
void mf_backup_entry(struct mf_ctx *c, const char *name, struct fy_node *val,
                     struct manifest_pos kpos);
void mf_check_backups(struct mf_ctx *c);
void mf_ci_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                 struct manifest_pos kp);

/* secrets (manifest_secrets.c) */
/* Compiles re once so a bad one is reported at its line; captures: its group count. */
bool mf_check_regex(struct mf_ctx *c, const char *re, struct manifest_pos p, const char *field,
                    uint32_t *captures);
extern const char *const mf_secrets_keys[];
void mf_secrets_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp);
void mf_secret_rule_release(struct manifest_secret_rule *r);

/* flags (manifest_flags.c) */
void mf_check_flags(struct mf_ctx *c);
void mf_flag_entry(struct mf_ctx *c, const char *name, struct fy_node *val, struct manifest_pos kp);

/* manifest.c */
void mf_env_release(struct manifest_env *e);

#endif

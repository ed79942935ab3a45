/*
 * The secret scanner's engine: rules compiled into one Vectorscan
 * database, confirmed by PCRE2 in a window around each hit.
 *
 * Vectorscan runs every rule's pattern over the input in one pass, in
 * prefilter mode (it may report more than the pattern matches, never
 * less). Each hit is confirmed with the rule's PCRE2 (JIT) pattern only
 * in a window around it, the line it ends on or, for multi-line rules, up
 * to 64 KiB ahead, which is also where the secret's capture group comes
 * from. A confirmed secret must then pass the rule's keywords and entropy
 * floor and the allowlists before it becomes a finding.
 *
 * The compiled database is cached on disk (OTAP_CACHE_DIR, else
 * $XDG_CACHE_HOME/otap, else ~/.cache/otap), keyed by a hash of the
 * Vectorscan version and every pattern, so a change of rules recompiles.
 *
 * An engine is read-only once built and shared by all threads; each
 * thread scans through its own secrets_worker.
 */
#ifndef OTAP_SECRETS_ENGINE_H
#define OTAP_SECRETS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/err.h"
#include "manifest/manifest.h"

struct secrets_rule {
    char *id;
    char *description;
    char *pattern;
    char *confirm; /* NULL: pattern */
    char **keywords;
    size_t nkeywords;
    double entropy;
    int group;
    unsigned flags; /* SR_* */
    bool custom;    /* from otap.yaml */
    /* NULL-terminated, or NULL: public example values of this format (secrets_rules.h) */
    const char *const *known;
    void *re; /* pcre2_code */
};

struct secrets_engine {
    struct secrets_rule *rules;
    size_t nrules;
    void *db;           /* hs_database_t */
    void *scratch;      /* hs_scratch_t: the prototype each worker clones */
    void **allow_paths; /* pcre2_code */
    size_t nallow_paths;
    void **allow_patterns;
    size_t nallow_patterns;
    char **stopwords; /* lower case */
    size_t nstopwords;
    bool cache_hit;
    double compile_seconds;
};

/*
 * Builds the engine from the built-in rules (unless builtins is false)
 * and the manifest's secrets section (may be NULL). Errors in custom
 * rules are reported against the manifest (OTAP_EINVALID); anything else
 * is OTAP_EEXTERNAL.
 */
int secrets_engine_build(struct secrets_engine *e, const struct manifest_secrets *cfg,
                         bool builtins, struct otap_err *err);
void secrets_engine_release(struct secrets_engine *e);
/* Does the allowlist exempt this path? */
bool secrets_path_allowed(const struct secrets_engine *e, const char *path);

struct secret_finding {
    int rule;              /* index into engine->rules */
    size_t start, end;     /* the match, byte offsets in the scanned input */
    size_t sstart, send;   /* the secret within it */
    int line, col;         /* 1-based, of the match's start (col in bytes) */
    int end_line, end_col; /* of its last byte */
    double entropy;
    char *excerpt;        /* the line, secrets masked, valid UTF-8 */
    char fingerprint[33]; /* rule, path and secret: what a baseline accepts */
    char secret_key[33];  /* rule and secret alone: the same secret wherever it stands */
    size_t occurrences;   /* git history: how many blobs carry it (1 elsewhere) */
    size_t source;        /* the caller's: which file or blob */
};

struct secret_findings {
    struct secret_finding *items;
    size_t n, alloc;
};

struct secrets_counts {
    uint64_t bytes;
    uint64_t inline_allowed; /* findings silenced by an allow comment */
};

struct secrets_worker {
    const struct secrets_engine *e;
    void *scratch;   /* hs_scratch_t */
    void *md;        /* pcre2_match_data */
    size_t *covered; /* per rule: hits ending before this are handled */
    size_t *emitted; /* per rule: matches must start at or after this */
    struct secret_findings pending;
};

int secrets_worker_init(struct secrets_worker *w, const struct secrets_engine *e,
                        struct otap_err *err);
void secrets_worker_release(struct secrets_worker *w);

/*
 * Scans buf, the content of path (used in fingerprints and by nothing
 * else: give the path relative to the repository, so that a fingerprint
 * is the same wherever the scan runs from), appending findings tagged
 * with source to out. Returns 0, or
 * OTAP_EEXTERNAL when Vectorscan fails.
 */
int secrets_scan_buffer(struct secrets_worker *w, const char *path, size_t source, const char *buf,
                        size_t len, struct secret_findings *out, struct secrets_counts *counts);

void secret_findings_release(struct secret_findings *f);

/* Shannon entropy of s, in bits per byte. */
double secrets_entropy(const char *s, size_t len);
/* A copy of s[0..len) that is valid UTF-8 with no control characters. */
char *secrets_printable(const char *s, size_t len);

#endif

/*
 * The manifest: otap.yaml, the single source of truth of a project.
 *
 * manifest_load_*() parse the YAML with libfyaml and validate the whole
 * schema in one pass, appending every problem to a diag_list with its
 * line and column. They return a manifest only when there are no errors
 * (warnings are allowed); otherwise NULL, and the list says why. The
 * returned structure owns all its strings and is freed by manifest_free().
 *
 * Positions (line, col) are 1-based and point at the key or value the
 * field came from, so later checks (ports, contract) can report against
 * the same file.
 */
#ifndef OTAP_MANIFEST_H
#define OTAP_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "manifest/slices.h"

/* The four fixed OTAP stages, in promotion order. */
enum otap_stage { STAGE_O = 0, STAGE_T = 1, STAGE_A = 2, STAGE_P = 3, STAGE_COUNT = 4 };

struct manifest_pos {
    int line, col;
};

struct manifest_deploy {
    char *driver; /* "run" or "local"; NULL when the environment has no deploy */
    char *run;    /* command for the run driver */
    long timeout_s;
    char *service; /* for the local driver: the service it runs, or NULL */
    struct manifest_pos pos;
    struct manifest_pos service_pos;
};

struct manifest_env {
    char *name;
    enum otap_stage stage;
    char **branches;
    size_t nbranches;
    char *marker;
    char **requires;
    size_t nrequires;
    bool protected;
    struct manifest_deploy deploy;
    struct manifest_pos pos;
    struct manifest_pos requires_pos;
};

struct manifest_health {
    char *liveness;  /* e.g. /health */
    char *health;    /* e.g. /api/v2/health */
    char *readiness; /* e.g. /api/v2/ready */
};

struct manifest_service_url {
    char *env; /* an environment name, letter or synonym */
    char *url; /* base URL, no trailing slash */
    struct manifest_pos pos;
};

enum service_restart { SERVICE_RESTART_ON_FAILURE, SERVICE_RESTART_NO, SERVICE_RESTART_ALWAYS };

/* What a dependent waits for (depends_on: { a: healthy }); DEP_DEFAULT: healthy if it can tell. */
enum service_dep_cond { DEP_DEFAULT, DEP_STARTED, DEP_HEALTHY, DEP_COMPLETED };

/* A service's own readiness probe (ready:), when it has no health contract. */
enum service_ready_kind { READY_NONE, READY_HTTP, READY_TCP, READY_EXEC, READY_LOG };

struct service_ready {
    enum service_ready_kind kind;
    char *what; /* the path, the command or the log regex; NULL for tcp (the port) */
    int port;   /* tcp: the port (0: the service's) */
};

struct manifest_service {
    char *name;
    int port; /* 0: none */
    char *run;
    enum service_restart restart;        /* on-failure unless said otherwise */
    int max_restarts;                    /* for on-failure (3) */
    enum service_dep_cond *depends_cond; /* one per depends_on entry */
    struct service_ready ready;
    long start_timeout_s; /* until started and ready (60 s) */
    char *kind;           /* "postgres": otap runs Debian's PostgreSQL; NULL: run */
    struct manifest_health health;
    char **depends_on;
    size_t ndepends_on;
    struct manifest_service_url *urls; /* where each environment runs it */
    size_t nurls;
    struct manifest_pos pos;
    struct manifest_pos port_pos;
    struct manifest_pos depends_pos;
};

struct manifest_block {
    char *name;
    int lo, hi;
    char *within; /* the block this one is nested in on purpose, or NULL */
    char *purpose;
    struct manifest_pos pos;
};

struct manifest_ports {
    bool has_range;
    int lo, hi;
    struct manifest_pos range_pos;
    struct manifest_block *blocks;
    size_t nblocks;
};

enum contract_type {
    CT_STRING,
    CT_INT,
    CT_BOOL,
    CT_ENUM,
    CT_URL,
    CT_CSV,
    CT_DURATION,
    CT_PORT,
    CT_SECRET,
};

struct contract_var {
    char *name;
    enum contract_type type;
    bool required_always;
    char **required_envs; /* required only in these environments */
    size_t nrequired_envs;
    char **placeholder_envs; /* secret: a placeholder is accepted (warned) in these */
    size_t nplaceholder_envs;
    char *default_value;
    char **aliases;
    size_t naliases;
    char *description;
    char *example;
    char **values; /* enum */
    size_t nvalues;
    char **schemes; /* url */
    size_t nschemes;
    enum contract_type item_type; /* csv */
    bool has_min, has_max;
    long long min, max; /* int, or length bounds for secret via min_length */
    long min_length;
    char *one_of; /* group name */
    struct manifest_pos pos;
};

struct manifest_gate {
    char *name;
    char *run;
    long timeout_s;
    char *env;    /* the environment whose canonical config it runs with; NULL: test (stage T) */
    char **needs; /* gates (or built-in gates) that pass before it */
    size_t nneeds;
    char **services; /* services started and waited for before it */
    size_t nservices;
    struct manifest_pos pos;
};

/* How CI gets otap and the build (otap gen github); every field may be NULL. */
struct manifest_ci {
    char *install;  /* a shell step that puts otap on PATH */
    char *build;    /* a shell step that builds */
    char *artifact; /* the build it makes, registered and recorded */
    char *runner;   /* runs-on (ubuntu-latest) */
    char *postgres; /* the PostgreSQL service image (postgres:15) */
};

/* Backups of one environment's database (backups: in otap.yaml; docs/backup.md). */
struct manifest_backup {
    char *env;
    char *target;         /* dir:PATH (relative to the project) or s3://BUCKET/PREFIX */
    char *endpoint_var;   /* the config variable holding the S3 endpoint URL, or NULL (AWS) */
    char *region;         /* "auto" (R2) by default */
    char *access_key_var; /* config variables: only ever named */
    char *secret_key_var;
    char *encrypt_var;  /* the config variable holding the AES-256 key, or NULL: not encrypted */
    int keep_days;      /* -1: no limit by age */
    int keep_last;      /* -1: no limit by count */
    long drill_every_s; /* -1: no drill is due */
    int zstd_level;     /* 1-19, default 3 */
    struct manifest_pos pos;
};

void manifest_backup_release(struct manifest_backup *b);

/* A policy rule (otap policy check): every file matching files must (not) contain pattern. */
struct manifest_policy {
    char *name;
    char *files;   /* a glob; ** crosses directories */
    char *pattern; /* PCRE2, multi-line */
    bool must_not; /* must_not_contain rather than must_contain */
    char *message;
    struct manifest_pos pos;
};

/* release, experiment, operational, kill-switch, permission; NULL-terminated. */
extern const char *const manifest_flag_kinds[];
/* a targeting rule's operators, in enum flag_op's order (flags/flag.h); NULL-terminated */
extern const char *const manifest_flag_rule_ops[];

/* A flag's variant value as written: a YAML scalar, with the type it reads as. */
enum flag_value_type { FLAG_VALUE_BOOL, FLAG_VALUE_NUMBER, FLAG_VALUE_STRING };
struct manifest_flag_value {
    enum flag_value_type type;
    char *text; /* "true", "42", "classic" */
};

/* A targeting rule: when the context attribute matches, the flag gives variant. */
struct manifest_flag_rule {
    char *attr;
    int op; /* enum flag_op (flags/flag.h): equals, in, starts_with, ends_with, semver_gte,
               semver_lt */
    char **values;
    size_t nvalues;
    char *variant; /* "on" or "off" */
};

struct manifest_flag {
    char *name;
    char *kind; /* release (default), experiment, operational, kill-switch, permission */
    struct manifest_flag_value on_value, off_value; /* variants: { on: V, off: V }; true/false */
    struct manifest_flag_rule *rules;
    size_t nrules;
    char *owner;
    char *expires; /* YYYY-MM-DD */
    bool default_on;
    char **on; /* environments where it is on */
    size_t non;
    int rollout; /* percentage, 0..100; -1 when not set */
    char *description;
    char **enable_on_promote; /* environments where a promotion that goes live turns it on */
    size_t nenable_on_promote;
    long max_fully_on_s; /* how long it may stay fully on in a protected environment; -1:
                                 its kind's (release, experiment: 14 days; others: no limit) */
    struct manifest_pos pos;
};

struct manifest_database {
    char *url_var;      /* name of the config variable holding the URL */
    char *migrations;   /* directory */
    char *schema;       /* schema dump file, or NULL */
    char *marker_table; /* the environment marker's table (bk_env_marker) */
    char *tool_scheme;  /* the URL's scheme for a team's own tool (otap db guard), or NULL */
    struct manifest_pos pos;
};

/* Keep a Changelog 1.1's six sections, in its order; NULL-terminated. */
extern const char *const manifest_cl_sections[];

/* A commit type's section in the changelog (Keep a Changelog 1.1). */
struct manifest_cl_section {
    char *type;    /* "feat" */
    char *section; /* "Added"; NULL: the type is left out of the changelog */
};

struct manifest_release {
    char *version_file;
    char *changelog;
    char *tag_prefix;
    char **commit_types; /* NULL: commitlint's conventional list */
    size_t ncommit_types;
    char *trunk;     /* the branch releases are cut from; NULL: production's (manifest_trunk) */
    char **branches; /* the patterns a short-lived branch's name must match; NULL: the seeds' */
    size_t nbranches;
    long long max_branch_age_s;           /* a branch's lifetime limit (2 days) */
    bool bump_minor_pre_major;            /* before 1.0.0 a breaking change bumps the minor */
    bool bump_patch_for_minor_pre_major;  /* before 1.0.0 a feature bumps the patch */
    struct manifest_cl_section *sections; /* NULL: the default mapping (docs/release.md) */
    size_t nsections, sections_alloc;
    struct manifest_pos pos;
};

/* A custom secret rule (secrets.rules); see docs/secrets.md. */
struct manifest_secret_rule {
    char *id;
    char *description;
    char *pattern;
    char **keywords;
    size_t nkeywords;
    double entropy;
    int group; /* -1: the first capture group if the pattern has one, else the match */
    struct manifest_pos pos, pattern_pos;
};

/* An allowlist regex, with where it was written. */
struct manifest_regex {
    char *re;
    struct manifest_pos pos;
};

struct manifest_secrets {
    struct manifest_secret_rule *rules;
    size_t nrules;
    char **disable; /* built-in rule ids turned off */
    size_t ndisable;
    struct manifest_regex *allow_paths; /* matched against the path */
    size_t nallow_paths;
    struct manifest_regex *allow_patterns; /* matched against the secret */
    size_t nallow_patterns;
    char **stopwords; /* a secret containing one (any case) is not reported */
    size_t nstopwords;
    char *baseline;          /* relative to the project root; NULL: the default */
    long long max_file_size; /* bytes; 0: the default */
};

struct manifest {
    char *path; /* the file it was read from */
    char *dir;  /* the directory holding it: the project root */
    char *project;
    struct manifest_env *envs;
    size_t nenvs;
    struct manifest_service *services;
    size_t nservices;
    struct manifest_ports ports;
    struct contract_var *config;
    size_t nconfig;
    struct manifest_database database; /* url_var NULL when absent */
    bool has_slo;
    double slo_p95_ms;
    double slo_error_rate;
    struct manifest_flag *flags;
    size_t nflags;
    struct manifest_release release;
    struct manifest_gate *gates;
    size_t ngates;
    struct manifest_policy *policies;
    size_t npolicies;
    struct manifest_ci ci;
    struct manifest_backup *backups;
    size_t nbackups;
    struct manifest_slices slices; /* inline, or .file naming the registry (plan/slices) */
    char *config_docs;             /* docs.config: a file with the contract table between markers */
    struct manifest_secrets secrets;
};

/* Largest manifest otap reads; a larger file is refused, not parsed. */
#define MANIFEST_MAX_BYTES (4u << 20)

struct manifest *manifest_load_file(const char *path, struct diag_list *diags);
/* name is used in diagnostics; data need not be NUL-terminated. */
struct manifest *manifest_load_buffer(const char *data, size_t len, const char *name,
                                      struct diag_list *diags);
void manifest_free(struct manifest *m);
/* The backups of env (backups: in otap.yaml), or NULL. */
const struct manifest_backup *manifest_backup_for(const struct manifest *m, const char *env);

/*
 * Finds otap.yaml from dir upwards, like git finds .git. Returns a newly
 * allocated path or NULL.
 */
char *manifest_find(const char *dir);

/*
 * Looks an environment up by name, by stage letter (O, T, A, P) or by a
 * common synonym (dev, acceptance, prod...). NULL when none matches.
 */
const struct manifest_env *manifest_env_find(const struct manifest *m, const char *name);
/* The environment whose branch globs match branch, or NULL. */
const struct manifest_env *manifest_env_for_branch(const struct manifest *m, const char *branch,
                                                   const char **matched_glob);
const struct manifest_service *manifest_service_find(const struct manifest *m, const char *name);
/*
 * The base URL of service s in env: its 'urls' entry, else for the O and T
 * stages http://127.0.0.1:PORT; NULL when unknown (caller frees).
 */
char *manifest_service_url(const struct manifest *m, const struct manifest_service *s,
                           const struct manifest_env *env);
/* The trunk: release.trunk, else production's first branch that is no pattern, else "main". */
const char *manifest_trunk(const struct manifest *m);

const struct manifest_gate *manifest_gate_find(const struct manifest *m, const char *name);
/* Variables required in env (always-required ones included). */
bool manifest_var_required_in(const struct contract_var *v, const char *env);
/* The contract variable called name, by its canonical name or an alias; NULL when none. */
const struct contract_var *manifest_var_find(const struct manifest *m, const char *name);

const char *manifest_stage_letter(enum otap_stage s);
const char *contract_type_name(enum contract_type t);

/* The requirement name that means "an acceptance sign-off was recorded". */
#define MANIFEST_REQ_SIGNOFF "signoff"
/* The built-in gate that a build is the release its tag names (otap release create). */
#define MANIFEST_REQ_TAG "tag"
/* The built-in gate that the environment's backups passed a drill within drill_every. */
#define MANIFEST_REQ_DRILL "drill"
/* Is name a gate judged when promoting (signoff, tag, drill), never run in CI? */
bool manifest_gate_at_promotion(const char *name);
/*
 * Every built-in gate, usable in requires and needs without a definition:
 * signoff, tag (judged when promoting) and the ones otap ci run runs
 * itself: secrets, contract, migrations, commits, branch, policy.
 */
extern const char *const manifest_builtin_gates[];
bool manifest_gate_is_builtin(const char *name);

#endif

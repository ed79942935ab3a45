/*
 * The config contract: the manifest's config section applied to the
 * layered environment of one OTAP environment.
 *
 * contract_eval() loads the layers of environment E from the project
 * root, strongest first: the process environment, .env.<E>.local,
 * .env.<E>, .env.local, .env. Then, per contract variable: the canonical
 * name, else an alias (with a deprecation warning; an alias and its
 * canonical name set to different values is an error), else the default;
 * the database URL is normalised to postgresql:// or built from the
 * POSTGRES_* parts; ENVIRONMENT must agree with E (otap supplies it when
 * unset). Then every rule is checked and every problem recorded in
 * ev->diags: missing required variables (one_of groups count as a whole),
 * wrong types, weak or placeholder secrets, a secret of staging or
 * production shared with another environment, and variables in the
 * dotenv files that the contract does not name.
 *
 * Diagnostics never contain a secret's value; other values pass through
 * redact_text(). ev owns everything it holds.
 */
#ifndef OTAP_CONTRACT_H
#define OTAP_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "config/dotenv.h"
#include "config/envset.h"
#include "base/err.h"
#include "manifest/manifest.h"

#define CONTRACT_LAYERS 4

struct contract_value {
    const struct contract_var *var;
    char *value;  /* NULL when unset */
    char *source; /* "process", "FILE:LINE", "default", "otap" */
    char *alias;  /* the alias it was read from, or NULL */
    char *note;   /* how otap changed it (normalised scheme...), or NULL */
};

struct contract_eval {
    const struct manifest *m;
    const struct manifest_env *env;
    char *layer_paths[CONTRACT_LAYERS]; /* strongest first, relative to the project root */
    bool layer_present[CONTRACT_LAYERS];
    struct dotenv layers[CONTRACT_LAYERS];
    struct envset set;
    struct contract_value *values; /* one per contract variable, in manifest order */
    size_t nvalues;
    struct diag_list diags; /* the problems; the list's file is the manifest */
};

/* Secrets shorter than this fail when the contract gives no min_length. */
#define CONTRACT_SECRET_MIN_LENGTH 16

/*
 * Evaluates the contract for environment env_name (a name, stage letter
 * or synonym) of m. manifest_name is how messages name the manifest;
 * process is the environment to layer on top (NULL-terminated, may be
 * NULL). Returns 0 (problems are in ev->diags, errors and warnings), or
 * OTAP_EUSAGE for an unknown environment.
 */
int contract_eval(struct contract_eval *ev, const struct manifest *m, const char *manifest_name,
                  const char *env_name, char *const *process, struct otap_err *err);
void contract_eval_release(struct contract_eval *ev);

const struct contract_value *contract_value_of(const struct contract_eval *ev, const char *name);

/*
 * The environment a program gets from 'otap run': the process environment
 * without any alias names, then every contract variable that has a value,
 * under its canonical name (the database URL normalised, ENVIRONMENT set).
 * NULL-terminated "K=V" strings; free with contract_child_env_free().
 */
char **contract_child_env(const struct contract_eval *ev, char *const *process);
void contract_child_env_free(char **envp);

/*
 * Checks one value against a type; returns NULL when it fits, else a
 * message (caller frees) that names the variable but never a secret.
 */
char *contract_check_value(const struct contract_var *v, const char *value);

/*
 * Is a variable's value a secret? The one rule, for every command that
 * shows or scans values: a contract variable of type secret, or of type
 * string whose name says it is one (types can be mistyped); a variable
 * the contract does not name (v NULL) when its name says so.
 */
bool contract_is_secret(const struct contract_var *v, const char *name);

/* Estimated strength of a secret: Shannon entropy times length, in bits. */
double contract_secret_bits(const char *s);
/* Does the value look like a placeholder (changeme, <...>, your-key-here)? */
bool contract_is_placeholder(const char *s);

/*
 * postgres://, postgresql+asyncpg:// and the like become postgresql://;
 * returns a new string, or NULL when s is not a PostgreSQL URL.
 */
char *contract_normalise_pg_url(const char *s);
/* postgresql://user:pass@host:port/db with each part percent-encoded. */
char *contract_build_pg_url(const char *user, const char *password, const char *host,
                            const char *port, const char *db);

#endif

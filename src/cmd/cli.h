/*
 * What every command shares: the global options, the loaded manifest,
 * and the one way results and errors leave the process.
 *
 * A command builds one jansson document as its result and hands it to
 * cli_emit() with a text renderer; with --json the document itself is
 * printed, so both renderings come from one data path. Errors go through
 * cli_error() exactly once: to stderr as "error: ..." in text mode, or
 * as the JSON document {"ok": false, "error": {...}} with --json.
 */
#ifndef OTAP_CLI_H
#define OTAP_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/diag.h"
#include "manifest/manifest.h"

enum cmd_flags {
    CMD_NEEDS_MANIFEST = 1 << 0, /* main loads otap.yaml before run() */
    CMD_REPORTS_JSON = 1 << 1,   /* --json is meaningful */
    CMD_OWNS_WARNINGS = 1 << 2,  /* reports the manifest's warnings itself */
};

struct cli {
    const char *manifest_path; /* --manifest, or NULL: search upwards */
    bool json;
    bool quiet;
    bool color;
    struct manifest *m;        /* set for commands with CMD_NEEDS_MANIFEST */
    struct diag_list warnings; /* the manifest's warnings, when it loaded */
    const struct cmd *cmd;
};

struct cmd {
    const char *name;
    const char *summary;
    const char *usage; /* full help text: synopsis, options, exit codes */
    unsigned flags;
    /* argv[0] is the command name; returns an OTAP_* code */
    int (*run)(struct cli *cli, int argc, char **argv);
};

/* The dispatch table (main.c), sorted by name, terminated by NULL. */
extern const struct cmd *const otap_commands[];
const struct cmd *cli_find_command(const char *name);
/* The command name closest to a misspelt one, or NULL. */
const char *cli_suggest_command(const char *name);

typedef void (*cli_render_fn)(struct cli *cli, json_t *doc, FILE *out);

/* Prints the result doc (as JSON, or through render) and frees it. */
void cli_emit(struct cli *cli, json_t *doc, cli_render_fn render);

/* Reports an error once and returns code. */
int cli_error(struct cli *cli, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A usage error: the message, then where to find help. Returns OTAP_EUSAGE. */
int cli_usage_error(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints diagnostics: to stderr in text mode; returns them as a JSON array. */
json_t *cli_diags_json(const struct diag_list *dl);
void cli_print_diags(struct cli *cli, const struct diag_list *dl, FILE *out);
/* Renders a cli_diags_json() array as FILE:LINE:COL: lines (warnings hidden by --quiet). */
void cli_render_diags(struct cli *cli, json_t *diags, FILE *out);

/* Colour helpers: return the escape when colour is on, "" otherwise. */
const char *cli_red(const struct cli *cli);
const char *cli_yellow(const struct cli *cli);
const char *cli_green(const struct cli *cli);
const char *cli_bold(const struct cli *cli);
const char *cli_reset(const struct cli *cli);

/* How messages name the manifest (the path it was given as). */
const char *cli_manifest_name(const struct cli *cli);

/*
 * A refusal: every unmet condition, as a list on stderr or one JSON
 * document ({"ok": false, "error": {"code": "refused"...}, "refusals":
 * [...]} plus extra's keys). Steals extra (may be NULL). Returns
 * OTAP_EREFUSED.
 */
int cli_refused(struct cli *cli, const char *what, char *const *items, size_t n, json_t *extra);

/*
 * Loads otap.yaml (--manifest, or found upwards) into cli->m, reporting
 * every problem in it. Without one: an error when required, else 0 with
 * cli->m left NULL. Returns an OTAP_* code.
 */
int cli_load_manifest(struct cli *cli, bool required);

struct store;
/*
 * Opens the project's state store (OTAP_STATE_URL or .otap/state.db) and
 * marks promotions whose otap died, saying so on stderr. Reports its own
 * errors; returns an OTAP_* code.
 */
int cli_store_open(struct cli *cli, struct store **out);

/* The command's usage text, as printed by --help and 'otap help CMD'. */
void cli_print_help(const struct cmd *c, FILE *out);

#endif

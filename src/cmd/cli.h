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
#include "base/err.h"
#include "base/redact.h"
#include "base/strbuf.h"
#include "manifest/manifest.h"

enum cmd_flags {
    CMD_NEEDS_MANIFEST = 1 << 0,    /* main loads otap.yaml before run() */
    CMD_REPORTS_JSON = 1 << 1,      /* --json is meaningful */
    CMD_OWNS_WARNINGS = 1 << 2,     /* reports the manifest's warnings itself */
    CMD_OPTIONS_FIRST = 1 << 3,     /* options end at the first operand (otap run -- CMD) */
    CMD_MANIFEST_OPTIONAL = 1 << 4, /* a verb that loads otap.yaml only when there is one */
};

/* The most options one command or verb declares (a test checks it). */
#define CLI_OPTS_MAX 16

/*
 * One option of a command or verb, written once: the parser reads it, and
 * --help lists it. Tables end with an entry whose name is NULL.
 */
struct cli_opt {
    const char *name; /* long name without the dashes: "env" is --env */
    char short_name;  /* -e, or 0 */
    const char *arg;  /* the argument's name in help ("ENV"), or NULL for a flag */
    const char *help; /* one line */
};

/* What main hands a command: its operands and the options given. */
struct cli_args {
    int argc;     /* operands, argv[0] being the command or verb word */
    char **argv;  /* NULL-terminated */
    int dashdash; /* the index in argv of the first operand after "--", or 0 */
    const struct cli_opt *opts;
    const char *values[CLI_OPTS_MAX]; /* by index in opts; "" for a flag given */
};

/* The option's value, "" for a flag that was given, or NULL when absent. */
const char *cli_opt(const struct cli_args *a, const char *name);
/* Was the flag (or option) given? */
bool cli_flag(const struct cli_args *a, const char *name);

struct cli;
/*
 * A command, or a verb of one: both are this table. A command with verbs
 * dispatches on its first operand; when it also has run(), a first
 * operand that is not a verb runs the command itself (otap serve).
 * Help is generated: summary, usage lines, verbs, options, about, exits.
 */
struct cmd {
    const char *name;
    const char *summary;
    /* what follows "otap NAME" on the usage line; NULL: generated from opts.
     * Several lines are separated by '\n' and each printed as a usage line. */
    const char *synopsis;
    const char *about;            /* prose after the options, or NULL */
    const char *exits;            /* the exit codes, as "0 ok, 2 usage, ..."; verbs inherit */
    void (*more_help)(FILE *out); /* help made from data elsewhere (routes, preconditions) */
    unsigned flags;               /* a verb's are added to its command's */
    const struct cli_opt *opts;
    const struct cmd *verbs; /* ends with an entry whose name is NULL */
    /* returns an OTAP_* code */
    int (*run)(struct cli *cli, const struct cli_args *a);
};

/*
 * stdout or stderr as otap writes it: whole lines pass through the
 * redactor on their way to the file descriptor, so a secret split over
 * two writes is still one line to hide it in.
 */
struct cli_stream {
    int fd;
    struct strbuf pending; /* the unfinished line */
    const struct redactor *r;
    bool structural; /* false only for what 'env show --reveal' shows on a terminal */
};

struct cli {
    const char *manifest_path; /* --manifest, or NULL: search upwards */
    struct redactor redact;    /* this project's secrets, armed before anything is printed */
    struct cli_stream out, err;
    bool json;
    bool quiet;
    bool color;
    struct manifest *m;        /* set for commands with CMD_NEEDS_MANIFEST */
    struct diag_list warnings; /* the manifest's warnings, when it loaded */
    const struct cmd *cmd;     /* the top-level command */
    const struct cmd *verb;    /* the verb being run (the innermost), or NULL */
    const char *words;         /* "otap db marker init" while a verb runs, or NULL */
    unsigned flags;            /* the command's and its verbs' flags together */
    /* >= 0: the exit status of a program otap ran for the user (db guard), which
     * otap exits with when the command itself succeeded */
    int child_exit;
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
/*
 * Reports a library failure once: a usage error (with where to find help)
 * for OTAP_EUSAGE and OTAP_ENOTFOUND, else an error with its code.
 * Releases err. Returns code.
 */
int cli_fail(struct cli *cli, int code, struct otap_err *err);
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

/* n bytes for people: "812 B", "3.4 KiB", "12.1 MiB", "1.02 GiB" (status.c). */
const char *cli_bytes(char buf[32], long long n);
/* "backup: last ..., drill ..." for status and explain (status.c); nothing when b is empty. */
void cli_render_backup(struct cli *cli, json_t *b, FILE *out);

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

/*
 * Prints text word-wrapped to 80 columns, every line after the first
 * indented by indent spaces (the first continues where the cursor is, at
 * column first_col).
 */
void cli_print_wrapped(FILE *out, int first_col, int indent, const char *text);

/*
 * Makes stdout and stderr redacting streams over their descriptors (the
 * process environment's secrets armed first). cli_streams_finish() writes
 * what is left of an unfinished line (at exit, before exec), frees the
 * line buffers, and returns -1 when the descriptor failed.
 */
void cli_streams_install(struct cli *cli);
int cli_streams_finish(struct cli *cli);
/* Arms the redactor with the secrets of the process and of cli->m's dotenv files. */
void cli_arm_redaction(struct cli *cli);
/*
 * 'env show --reveal' on a terminal: stdout shows values as they are.
 * Everything else (stderr, JSON, a pipe) stays redacted.
 */
void cli_reveal_stdout(struct cli *cli);

/* otap's own help: usage, global options, every command's summary. */
void cli_print_main_help(FILE *out);

/* A usage error naming the first operand past the n a command takes. */
int cli_operands_at_most(struct cli *cli, const struct cli_args *a, int n);

/* The verb of c called name, or NULL. */
const struct cmd *cli_find_verb(const struct cmd *c, const char *name);

/*
 * Parses argv (argv[0] the command or verb word) against c's options into
 * a. Reports a usage error itself. Release a with cli_args_release().
 */
int cli_parse(struct cli *cli, const struct cmd *c, int argc, char **argv, struct cli_args *a);
void cli_args_release(struct cli_args *a);

/*
 * Runs the command argv[0] names: picks the verb, parses the options,
 * loads the manifest when the command needs it, calls run(). help asks
 * for the help text instead (generated from the tables: summary, usage
 * lines, verbs, options, about, more_help, exits).
 */
int cli_dispatch(struct cli *cli, int argc, char **argv, bool help);

#endif

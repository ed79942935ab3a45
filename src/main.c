/*
 * The front door of otap: global options, the dispatch table, the shared
 * set-up a command declares it needs (the manifest), the mapping from
 * result codes to exit statuses, and a check that stdout was written.
 * Modelled on git's git.c: commands are data, run_command() does the
 * common work so that the commands do not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "base/err.h"
#include "manifest/manifest.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* The one place result codes become exit statuses (docs/exit-codes.md). */
static int exit_status(int code)
{
    switch (code) {
    case OTAP_OK:
        return 0;
    case OTAP_EFOUND:
        return 1;
    case OTAP_EUSAGE:
        return 2;
    case OTAP_EINVALID:
        return 3;
    case OTAP_EREFUSED:
        return 4;
    case OTAP_EEXTERNAL:
        return 5;
    default:
        return code > 0 ? 0 : 5;
    }
}

static const char main_usage[] =
    "usage: otap [-C DIR] [--manifest FILE] [--json] [--quiet] [--no-color] <command> [<args>]\n"
    "       otap --version | --help | help <command>\n"
    "\n"
    "otap checks, refuses, promotes, records and explains the O -> T -> A -> P flow\n"
    "described by a project's otap.yaml.\n"
    "\n"
    "global options (accepted before or after the command):\n"
    "  -C DIR           run as if started in DIR\n"
    "  --manifest FILE  use FILE instead of otap.yaml found upwards from the current directory\n"
    "  --json           print the result as one JSON document\n"
    "  --quiet          print only errors and the result\n"
    "  --no-color       never colour output (NO_COLOR in the environment does the same)\n"
    "\n"
    "commands:\n";

static void print_main_help(FILE *out)
{
    fputs(main_usage, out);
    for (const struct cmd *const *c = otap_commands; *c; c++)
        fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
    fputs("\nexit codes: 0 ok, 1 problems found, 2 usage, 3 invalid manifest or config,\n"
          "4 refused for safety, 5 an external system failed.\n"
          "'otap help <command>' shows a command's options.\n",
          out);
}

struct globals {
    const char *dir;
    const char *manifest;
    bool json, quiet, no_color, help, version;
};

/*
 * Takes the global options out of argv wherever they stand before "--",
 * so that both 'otap --json check' and 'otap check --json' work; what
 * remains is the command and its own arguments. --version is global only
 * before the command word: commands may take a --version of their own. Returns the new argc, or
 * -1 with *bad set to the option that lacks its argument.
 */
static int take_globals(int argc, char **argv, struct globals *g, const char **bad)
{
    int out = 0;
    bool rest = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (rest || a[0] != '-') {
            argv[out++] = argv[i];
            continue;
        }
        /* after the command, --version is the command's own (artifact register --version) */
        bool after_command = out > 0;
        if (!strcmp(a, "--")) {
            rest = true;
            argv[out++] = argv[i];
        } else if (!strcmp(a, "--json")) {
            g->json = true;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            g->quiet = true;
        } else if (!strcmp(a, "--no-color")) {
            g->no_color = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            g->help = true;
        } else if (!strcmp(a, "--version") && !after_command) {
            g->version = true;
        } else if (!strcmp(a, "-C") || !strcmp(a, "--manifest")) {
            if (i + 1 >= argc) {
                *bad = a;
                return -1;
            }
            if (a[1] == 'C')
                g->dir = argv[++i];
            else
                g->manifest = argv[++i];
        } else if (!strncmp(a, "--manifest=", 11)) {
            g->manifest = a + 11;
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    return out;
}

static int run_command(struct cli *cli, const struct cmd *c, int argc, char **argv)
{
    cli->cmd = c;
    if ((c->flags & CMD_NEEDS_MANIFEST)) {
        int rc = cli_load_manifest(cli, true);
        if (rc)
            return rc;
    }
    return c->run(cli, argc, argv);
}

int main(int argc, char **argv)
{
    struct globals g = {0};
    struct cli cli = {0};
    const char *bad = NULL;
    int rc;

    int n = take_globals(argc - 1, argv + 1, &g, &bad);
    cli.json = g.json;
    cli.quiet = g.quiet;
    const char *nc = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    cli.color = !g.no_color && !(nc && *nc) && !(term && !strcmp(term, "dumb")) &&
                isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    cli.manifest_path = g.manifest;
    char **args = argv + 1;

    if (n < 0) {
        rc = cli_usage_error(&cli, "option '%s' needs an argument", bad);
        goto out;
    }
    if (g.version) {
        rc = run_command(&cli, cli_find_command("version"), 1, (char *[]){"version", NULL});
        goto out;
    }
    if (n == 0) {
        if (g.help) {
            print_main_help(stdout);
            rc = 0;
        } else {
            print_main_help(stderr);
            rc = OTAP_EUSAGE;
        }
        goto out;
    }
    const struct cmd *c = cli_find_command(args[0]);
    if (!c) {
        const char *s = cli_suggest_command(args[0]);
        if (s)
            rc = cli_usage_error(&cli, "'%s' is not an otap command (did you mean '%s'?)", args[0],
                                 s);
        else
            rc = cli_usage_error(&cli, "'%s' is not an otap command", args[0]);
        goto out;
    }
    if (g.help) {
        cli_print_help(c, stdout);
        rc = 0;
        goto out;
    }
    if (cli.json && !(c->flags & CMD_REPORTS_JSON)) {
        cli.json = false;
        rc = cli_usage_error(&cli, "'otap %s' has no --json output", c->name);
        goto out;
    }
    if (g.dir && chdir(g.dir) < 0) {
        rc = cli_error(&cli, OTAP_EUSAGE, "cannot change to '%s': %s", g.dir, strerror(errno));
        goto out;
    }
    rc = run_command(&cli, c, n, args);

out:
    diag_list_release(&cli.warnings);
    manifest_free(cli.m);
    /* a result that could not be written is a failure, not a success */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            fprintf(stderr, "error: cannot write the result to stdout: %s\n", strerror(errno));
        return 5;
    }
    return exit_status(rc);
}

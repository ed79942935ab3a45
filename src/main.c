/*
 * The front door of otap: global options, the mapping from result codes
 * to exit statuses, and a check that stdout was written. Commands are
 * data (src/cmd/commands.c); cli_dispatch() picks the command and verb,
 * parses their options and does the shared set-up they declare, as git's
 * run_builtin() does, so that the commands do not.
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
    case OTAP_ENOTFOUND:
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

int main(int argc, char **argv)
{
    struct globals g = {0};
    struct cli cli = {.redact = REDACTOR_INIT, .child_exit = -1};
    const char *bad = NULL;
    int rc;

    /* before anything is printed: every line leaves through the redactor */
    cli_streams_install(&cli);

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
        rc = cli_dispatch(&cli, 1, (char *[]){"version", NULL}, false);
        goto out;
    }
    if (n == 0) {
        cli_print_main_help(g.help ? stdout : stderr);
        rc = g.help ? OTAP_OK : OTAP_EUSAGE;
        goto out;
    }
    if (g.dir && !g.help && chdir(g.dir) < 0) {
        rc = cli_error(&cli, OTAP_EUSAGE, "cannot change to '%s': %s", g.dir, strerror(errno));
        goto out;
    }
    rc = cli_dispatch(&cli, n, args, g.help);

out:
    diag_list_release(&cli.warnings);
    manifest_free(cli.m);
    /* a result that could not be written is a failure, not a success */
    errno = 0;
    bool unwritten = cli_streams_finish(&cli) < 0 || ferror(stdout);
    int e = errno;
    if (unwritten && e != EPIPE) {
        fprintf(stderr, "error: cannot write the result to stdout: %s\n", strerror(e));
        cli_streams_finish(&cli);
    }
    redactor_release(&cli.redact);
    if (!unwritten && rc == OTAP_OK && cli.child_exit >= 0)
        return cli.child_exit;
    return unwritten ? 5 : exit_status(rc);
}

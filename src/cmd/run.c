/*
 * otap run --env E -- CMD [ARGS...]: start a program with exactly the
 * canonical config of E, or not at all.
 *
 * The contract is evaluated first (the same evaluation as 'otap env
 * check'); any error refuses with exit 4 before CMD exists as a process.
 * Otherwise otap execs CMD in its own place (same pid, so signals and the
 * exit status are CMD's) with the process environment minus every alias
 * name, plus each contract variable under its canonical name: defaults
 * applied, the database URL normalised, ENVIRONMENT=E.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config/contract.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/banned.h"

extern char **environ;

static int run(struct cli *cli, const struct cli_args *a)
{
    const char *env = cli_opt(a, "env");
    if (!env)
        return cli_usage_error(cli, "which environment? give --env NAME");
    /* without '--', otap's own global options would be taken from CMD's arguments */
    if (a->argc > 1 && a->dashdash != 1)
        return cli_usage_error(cli, "put '--' before the command: otap run --env %s -- CMD", env);
    if (a->argc < 2)
        return cli_usage_error(cli, "nothing to run: otap run --env %s -- CMD [ARGS...]", env);
    char **cmd = a->argv + 1;

    struct contract_eval ev;
    struct otap_err err = OTAP_ERR_INIT;
    const char *manifest = cli->warnings.file ? cli->warnings.file : cli->m->path;
    int erc = contract_eval(&ev, cli->m, manifest, env, environ, &err);
    if (erc < 0)
        return cli_fail(cli, erc, &err);
    size_t errors = diag_count(&ev.diags, DIAG_ERROR);
    if (errors || (!cli->quiet && ev.diags.n))
        cli_print_diags(cli, &ev.diags, stderr);
    if (errors) {
        int rc = cli_error(cli, OTAP_EREFUSED,
                           "refusing to start '%s': the config contract for %s has %zu "
                           "problem%s; 'otap env check --env %s' lists them",
                           cmd[0], ev.env->name, errors, errors == 1 ? "" : "s", ev.env->name);
        contract_eval_release(&ev);
        return rc;
    }
    char **envp = contract_child_env(&ev, environ);
    contract_eval_release(&ev);
    cli_streams_finish(cli);
    execvpe(cmd[0], cmd, envp);
    int e = errno;
    contract_child_env_free(envp);
    return cli_error(cli, OTAP_EEXTERNAL, "cannot run '%s': %s", cmd[0], strerror(e));
}

const struct cmd cmd_run = {
    .name = "run",
    .summary = "run a program with the canonical config of an environment, if it holds",
    .synopsis = "--env ENV -- CMD [ARGS...]",
    .opts =
        (const struct cli_opt[]){
            {"env", 'e', "ENV", "the environment whose config CMD gets"},
            {0},
        },
    .about = "Checks the config contract for ENV (as 'otap env check' does) and only if it\n"
             "holds replaces itself with CMD, whose environment is the process environment\n"
             "without alias names, plus every contract variable under its canonical name:\n"
             "defaults applied, the database URL normalised, ENVIRONMENT=ENV.\n",
    .exits = "CMD's own status when it ran; 2 usage; 3 invalid manifest; 4 the contract\n"
             "      does not hold and CMD was never started; 5 CMD cannot be executed",
    .flags = CMD_NEEDS_MANIFEST | CMD_OPTIONS_FIRST,
    .run = run,
};

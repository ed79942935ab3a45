/*
 * otap help [COMMAND [VERB]]: the same text as 'otap COMMAND [VERB] --help'.
 */
#include "cli.h"
#include "base/err.h"
#include "base/banned.h"

static int run(struct cli *cli, const struct cli_args *a)
{
    if (a->argc > 3)
        return cli_usage_error(cli, "'otap help' takes a command and, at most, one of its verbs");
    if (a->argc == 1) {
        cli_print_main_help(stdout);
        return OTAP_OK;
    }
    /* the help of a command or verb is what --help prints for it */
    if (a->argc == 3) {
        const struct cmd *c = cli_find_command(a->argv[1]);
        if (c && !cli_find_verb(c, a->argv[2]))
            return cli_usage_error(cli, "'otap %s' has no verb '%s'", c->name, a->argv[2]);
    }
    return cli_dispatch(cli, a->argc - 1, a->argv + 1, true);
}

const struct cmd cmd_help = {
    .name = "help",
    .summary = "show help for otap or one of its commands",
    .synopsis = "[<command> [<verb>]]",
    .exits = "0 ok, 2 usage",
    .run = run,
};

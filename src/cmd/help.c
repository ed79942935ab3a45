/*
 * otap help [COMMAND]: the same text as 'otap COMMAND --help'.
 */
#include "cli.h"
#include "base/err.h"
#include "base/banned.h"

static int run(struct cli *cli, int argc, char **argv)
{
    if (argc > 2)
        return cli_usage_error(cli, "'otap help' takes one command name");
    if (argc == 1) {
        printf("usage: otap <command> [<args>]\n\ncommands:\n");
        for (const struct cmd *const *c = otap_commands; *c; c++)
            printf("  %-10s %s\n", (*c)->name, (*c)->summary);
        printf("\n'otap help <command>' or 'otap <command> --help' shows a command's options.\n");
        return OTAP_OK;
    }
    const struct cmd *c = cli_find_command(argv[1]);
    if (!c) {
        const char *s = cli_suggest_command(argv[1]);
        if (s)
            return cli_usage_error(cli, "'%s' is not an otap command (did you mean '%s'?)", argv[1],
                                   s);
        return cli_usage_error(cli, "'%s' is not an otap command", argv[1]);
    }
    cli_print_help(c, stdout);
    return OTAP_OK;
}

const struct cmd cmd_help = {
    .name = "help",
    .summary = "show help for otap or one of its commands",
    .usage = "usage: otap help [<command>]\n",
    .flags = 0,
    .run = run,
};

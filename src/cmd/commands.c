/*
 * The dispatch table: every top-level command, as data. Each command's
 * file exports its entry; this list only orders them. Kept sorted by
 * name (tests/unit/test_commands.c checks it, and that each has help).
 */
#include "cli.h"
#include "banned.h"

extern const struct cmd cmd_check, cmd_db, cmd_env, cmd_explain, cmd_help, cmd_init, cmd_ports,
    cmd_probe, cmd_run, cmd_serve, cmd_version, cmd_wait;

const struct cmd *const otap_commands[] = {
    &cmd_check, &cmd_db,    &cmd_env, &cmd_explain, &cmd_help,
    &cmd_init,  &cmd_ports, &cmd_probe, &cmd_run, &cmd_serve, &cmd_version, &cmd_wait, NULL,
};

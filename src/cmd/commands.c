/*
 * The dispatch table: every top-level command, as data. Each command's
 * file exports its entry; this list only orders them. Kept sorted by
 * name (tests/unit/test_commands.c checks it, and that each has help).
 */
#include "cli.h"
#include "base/banned.h"

extern const struct cmd cmd_artifact, cmd_backup, cmd_branch, cmd_changelog, cmd_check, cmd_ci,
    cmd_commit, cmd_db, cmd_down, cmd_env, cmd_explain, cmd_flags, cmd_gate, cmd_gen, cmd_help,
    cmd_history, cmd_init, cmd_ledger, cmd_logs, cmd_plan, cmd_policy, cmd_ports, cmd_probe,
    cmd_promote, cmd_ps, cmd_release, cmd_restart, cmd_rollback, cmd_run, cmd_scope, cmd_secrets,
    cmd_serve, cmd_signoff, cmd_slice, cmd_status, cmd_up, cmd_version, cmd_wait, cmd_worktree;

const struct cmd *const otap_commands[] = {
    &cmd_artifact, &cmd_backup,  &cmd_branch,   &cmd_changelog, &cmd_check,   &cmd_ci,
    &cmd_commit,   &cmd_db,      &cmd_down,     &cmd_env,       &cmd_explain, &cmd_flags,
    &cmd_gate,     &cmd_gen,     &cmd_help,     &cmd_history,   &cmd_init,    &cmd_ledger,
    &cmd_logs,     &cmd_plan,    &cmd_policy,   &cmd_ports,     &cmd_probe,   &cmd_promote,
    &cmd_ps,       &cmd_release, &cmd_restart,  &cmd_rollback,  &cmd_run,     &cmd_scope,
    &cmd_secrets,  &cmd_serve,   &cmd_signoff,  &cmd_slice,     &cmd_status,  &cmd_up,
    &cmd_version,  &cmd_wait,    &cmd_worktree, NULL,
};

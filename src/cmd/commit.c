/*
 * otap commit: Conventional Commits for the messages a team writes.
 *
 *   lint          a message (FILE, or - for stdin, as the commit-msg hook
 *                 passes it) or every commit of a range (--from, --to)
 *   hook install  the commit-msg hook that lints each message
 *
 * The allowed types are release.commit_types in otap.yaml when there is
 * one, else commitlint's conventional list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "release/commit_msg.h"
#include "vcs/vcs_hook.h"
#include "vcs/vcs_log.h"
#include "base/banned.h"

#define COMMIT_HOOK_MARK "commit lint"
/* A message larger than this is refused rather than read. */
#define COMMIT_MAX_BYTES (1u << 20)

struct lint_run {
    struct cli *cli;
    struct commit_lint_opts opts;
    json_t *commits;
    size_t errors, warnings, checked;
};

/* Lints one message and adds it to the report; id NULL for a file or stdin. */
static void lint_one(struct lint_run *r, const char *id, const char *text, size_t len)
{
    struct commit_msg m;
    commit_msg_parse(text, len, &m);
    struct commit_problems p = {0};
    commit_lint(&m, &r->opts, &p);
    json_t *problems = json_array();
    for (size_t i = 0; i < p.n; i++) {
        json_array_append_new(problems,
                              json_pack("{s:s, s:s, s:s, s:i}", "rule", p.items[i].rule, "severity",
                                        p.items[i].severity == COMMIT_ERROR ? "error" : "warning",
                                        "message", p.items[i].message, "line", p.items[i].line));
        if (p.items[i].severity == COMMIT_ERROR)
            r->errors++;
        else
            r->warnings++;
    }
    json_array_append_new(
        r->commits, json_pack("{s:s?, s:s, s:s, s:s?, s:s?, s:b, s:o}", "commit", id, "header",
                              m.header, "kind", commit_kind_name(m.kind), "type", m.type, "scope",
                              m.scope, "breaking", m.breaking, "problems", problems));
    r->checked++;
    commit_problems_release(&p);
    commit_msg_release(&m);
}

static int on_commit(void *ctx, const char *short_id, const char *id, const char *message)
{
    (void)id;
    lint_one(ctx, short_id, message, strlen(message));
    return 0;
}

static void render_lint(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "commits"), i, c)
    {
        const char *id = json_string_value(json_object_get(c, "commit"));
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(c, "problems"), k, p)
        {
            bool error = !strcmp(json_string_value(json_object_get(p, "severity")), "error");
            fprintf(out, "%s%s%s%s%s: %s: %s\n", id ? id : "", id ? " " : "",
                    error ? cli_red(cli) : cli_yellow(cli), error ? "error" : "warning",
                    cli_reset(cli), json_string_value(json_object_get(p, "rule")),
                    json_string_value(json_object_get(p, "message")));
            if (id)
                fprintf(out, "    %s\n", json_string_value(json_object_get(c, "header")));
        }
    }
    long long n = json_integer_value(json_object_get(doc, "checked"));
    long long e = json_integer_value(json_object_get(doc, "errors"));
    long long w = json_integer_value(json_object_get(doc, "warnings"));
    if (e)
        fprintf(out, "%lld problem%s in %lld message%s%s\n", e, e == 1 ? "" : "s", n,
                n == 1 ? "" : "s", w ? " (and warnings)" : "");
    else if (!cli->quiet)
        fprintf(out, "%s%lld message%s Conventional Commits%s%s\n", cli_green(cli), n,
                n == 1 ? " follows" : "s follow", cli_reset(cli), w ? " (with warnings)" : "");
}

static int verb_lint(struct cli *cli, const struct cli_args *args)
{
    const char *from = cli_opt(args, "from"), *to = cli_opt(args, "to");
    int rc = cli_operands_at_most(cli, args, 1);
    if (rc)
        return rc;
    const char *file = args->argc > 1 ? args->argv[1] : NULL;
    if (file && (from || to))
        return cli_usage_error(cli, "lint a message FILE or a range (--from, --to), not both");
    struct lint_run r = {.cli = cli, .commits = json_array()};
    const struct manifest *m = cli->m;
    if (m && m->release.ncommit_types) {
        /* the manifest's list, NULL-terminated for the lint */
        const char **types = xcalloc(m->release.ncommit_types + 1, sizeof(*types));
        for (size_t i = 0; i < m->release.ncommit_types; i++)
            types[i] = m->release.commit_types[i];
        r.opts.types = types;
    }
    struct otap_err err = OTAP_ERR_INIT;
    if (file) {
        struct strbuf sb = STRBUF_INIT;
        int read = !strcmp(file, "-") ? strbuf_read_fd(&sb, 0, COMMIT_MAX_BYTES)
                                      : strbuf_read_file(&sb, file, COMMIT_MAX_BYTES);
        if (read < 0)
            rc = cli_error(cli, OTAP_EUSAGE, "cannot read '%s': %s", file,
                           errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
        else
            lint_one(&r, NULL, sb.buf ? sb.buf : "", sb.len);
        strbuf_release(&sb);
    } else {
        rc = vcs_each_commit(".", from, to, on_commit, &r, &err);
        if (rc < 0)
            rc = cli_fail(cli, rc, &err);
    }
    free((void *)r.opts.types);
    if (rc < 0) {
        json_decref(r.commits);
        return rc;
    }
    cli_emit(cli,
             json_pack("{s:b, s:I, s:I, s:I, s:o}", "ok", r.errors == 0, "checked",
                       (json_int_t)r.checked, "errors", (json_int_t)r.errors, "warnings",
                       (json_int_t)r.warnings, "commits", r.commits),
             render_lint);
    return r.errors ? OTAP_EFOUND : 0;
}

static void render_hook(struct cli *cli, json_t *doc, FILE *out)
{
    if (!cli->quiet)
        fprintf(out, "installed %s: each commit message is linted before the commit is made\n",
                json_string_value(json_object_get(doc, "hook")));
}

static int verb_hook_install(struct cli *cli, const struct cli_args *args)
{
    bool force = cli_flag(args, "force");
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    char *exe = realpath("/proc/self/exe", NULL);
    char *script = xasprintf(
        "#!/bin/sh\n"
        "# Installed by 'otap commit hook install': a message that is not a Conventional\n"
        "# Commit (feat: ..., fix(scope): ...) is refused. Skipping the check once:\n"
        "# git commit --no-verify\n"
        "otap='%s'\n"
        "[ -x \"$otap\" ] || otap=otap\n"
        "exec \"$otap\" " COMMIT_HOOK_MARK " \"$1\"\n",
        exe ? exe : "otap");
    struct otap_err err = OTAP_ERR_INIT;
    char *path = NULL;
    rc = vcs_hook_install(".", "commit-msg", script, COMMIT_HOOK_MARK, force, &path, &err);
    if (rc == OTAP_EREFUSED)
        rc = cli_refused(cli, "the commit-msg hook was left as it is", &err.msg, 1, NULL);
    else if (rc < 0)
        rc = cli_error(cli, rc, "%s", err.msg);
    else
        cli_emit(cli, json_pack("{s:b, s:s}", "ok", 1, "hook", path), render_hook);
    otap_err_release(&err);
    free(path);
    free(script);
    free(exe);
    return rc;
}

static const struct cmd hook_verbs[] = {
    {
        .name = "install",
        .summary = "write the commit-msg hook that lints each message",
        .opts =
            (const struct cli_opt[]){
                {"force", 0, NULL, "replace a commit-msg hook that is not otap's"},
                {0},
            },
        .run = verb_hook_install,
    },
    {0},
};

static const struct cmd verbs[] = {
    {
        .name = "lint",
        .summary = "check messages against Conventional Commits (a FILE, stdin, or a range)",
        .synopsis = "[FILE | -]\n[--from REV] [--to REV]",
        .opts =
            (const struct cli_opt[]){
                {"from", 0, "REV", "the commits after REV (not REV itself)"},
                {"to", 0, "REV", "up to REV (default HEAD)"},
                {0},
            },
        .about =
            "Rules, as commitlint's conventional preset names them: header-max-length (100),\n"
            "header-trim, type-empty, type-case, type-enum (release.commit_types, else build,\n"
            "chore, ci, docs, feat, fix, perf, refactor, revert, style, test), subject-empty,\n"
            "subject-full-stop, subject-case (not sentence, start, pascal or upper case),\n"
            "body-max-line-length and footer-max-line-length (100); body-leading-blank and\n"
            "footer-leading-blank are warnings. A breaking change is 'type!:' or a\n"
            "'BREAKING CHANGE:' footer. Merge, revert (Revert \"...\"), fixup!, squash!,\n"
            "amend! and version messages are recognised and pass. Git's comment lines and\n"
            "what follows its scissors line are not part of the message.\n",
        .flags = CMD_NEEDS_MANIFEST | CMD_MANIFEST_OPTIONAL,
        .run = verb_lint,
    },
    {
        .name = "hook",
        .summary = "install the commit-msg hook",
        .verbs = hook_verbs,
    },
    {0},
};

const struct cmd cmd_commit = {
    .name = "commit",
    .summary = "Conventional Commits: lint messages, install the commit-msg hook",
    .exits = "0 every message follows the rules (warnings allowed), 1 a message breaks one,\n"
             "      2 usage (an unknown revision, an unreadable file), 4 a commit-msg hook\n"
             "      that is not otap's (without --force), 5 git cannot be read",
    .flags = CMD_REPORTS_JSON,
    .verbs = verbs,
};

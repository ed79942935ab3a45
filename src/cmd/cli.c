/*
 * The command layer's shared output: results as text or JSON, errors
 * reported once, diagnostics in FILE:LINE:COL form, colour only when it
 * helps (a terminal, and no NO_COLOR).
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/suggest.h"
#include "base/xalloc.h"
#include "base/banned.h"

const struct cmd *cli_find_command(const char *name)
{
    for (const struct cmd *const *c = otap_commands; *c; c++)
        if (!strcmp((*c)->name, name))
            return *c;
    return NULL;
}

const char *cli_suggest_command(const char *name)
{
    const char *names[64] = {0};
    size_t n = 0;
    for (const struct cmd *const *c = otap_commands; *c && n < 63; c++)
        names[n++] = (*c)->name;
    return suggest_closest(name, names);
}

void cli_emit(struct cli *cli, json_t *doc, cli_render_fn render)
{
    if (cli->json) {
        json_dumpf(doc, stdout,
                   JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
                       JSON_REAL_PRECISION(10));
        fputc('\n', stdout);
    } else if (render) {
        render(cli, doc, stdout);
    }
    json_decref(doc);
}

static const char *code_name(int code)
{
    switch (code) {
    case OTAP_EFOUND:
        return "found";
    case OTAP_EUSAGE:
        return "usage";
    case OTAP_EINVALID:
        return "invalid";
    case OTAP_EREFUSED:
        return "refused";
    case OTAP_EEXTERNAL:
        return "external";
    default:
        return "error";
    }
}

__attribute__((format(printf, 3, 0))) static int vreport(struct cli *cli, int code, const char *fmt,
                                                         va_list ap)
{
    char *msg = xvasprintf(fmt, ap);
    if (cli->json) {
        json_t *doc = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", code_name(code),
                                "message", msg);
        json_dumpf(doc, stdout,
                   JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
                       JSON_REAL_PRECISION(10));
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        fprintf(stderr, "%serror:%s %s\n", cli_red(cli), cli_reset(cli), msg);
    }
    free(msg);
    return code;
}

int cli_error(struct cli *cli, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cli, code, fmt, ap);
    va_end(ap);
    return code;
}

int cli_usage_error(struct cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cli, OTAP_EUSAGE, fmt, ap);
    va_end(ap);
    if (!cli->json) {
        if (cli->cmd && strcmp(cli->cmd->name, "help"))
            fprintf(stderr, "see 'otap %s --help'\n", cli->cmd->name);
        else
            fprintf(stderr, "see 'otap --help'\n");
    }
    return OTAP_EUSAGE;
}

json_t *cli_diags_json(const struct diag_list *dl)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < dl->n; i++) {
        const struct diag *d = &dl->items[i];
        json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:s, s:s}", "file", diag_file(dl, d),
                                             "line", d->line, "column", d->col, "severity",
                                             d->severity == DIAG_ERROR ? "error" : "warning",
                                             "message", d->msg));
    }
    return arr;
}

void cli_print_diags(struct cli *cli, const struct diag_list *dl, FILE *out)
{
    for (size_t i = 0; i < dl->n; i++) {
        const struct diag *d = &dl->items[i];
        if (cli->quiet && d->severity == DIAG_WARNING)
            continue;
        char *line = diag_format(dl, d);
        const char *col = d->severity == DIAG_ERROR ? cli_red(cli) : cli_yellow(cli);
        fprintf(out, "%s%s%s\n", col, line, cli_reset(cli));
        free(line);
    }
}

void cli_render_diags(struct cli *cli, json_t *diags, FILE *out)
{
    size_t i;
    json_t *d;
    json_array_foreach(diags, i, d)
    {
        bool err = !strcmp(json_string_value(json_object_get(d, "severity")), "error");
        if (!err && cli->quiet)
            continue;
        int line = (int)json_integer_value(json_object_get(d, "line"));
        int col = (int)json_integer_value(json_object_get(d, "column"));
        fprintf(out, "%s%s", err ? cli_red(cli) : cli_yellow(cli),
                json_string_value(json_object_get(d, "file")));
        if (line)
            fprintf(out, ":%d", line);
        if (line && col)
            fprintf(out, ":%d", col);
        fprintf(out, ": %s%s%s\n",
                err ? "" : "warning: ", json_string_value(json_object_get(d, "message")),
                cli_reset(cli));
    }
}

const char *cli_red(const struct cli *cli)
{
    return cli->color ? "\033[31m" : "";
}

const char *cli_yellow(const struct cli *cli)
{
    return cli->color ? "\033[33m" : "";
}

const char *cli_green(const struct cli *cli)
{
    return cli->color ? "\033[32m" : "";
}

const char *cli_bold(const struct cli *cli)
{
    return cli->color ? "\033[1m" : "";
}

const char *cli_reset(const struct cli *cli)
{
    return cli->color ? "\033[0m" : "";
}

void cli_print_help(const struct cmd *c, FILE *out)
{
    fprintf(out, "otap %s: %s\n\n%s", c->name, c->summary, c->usage);
}

int cli_load_manifest(struct cli *cli, bool required)
{
    char *path = cli->manifest_path ? xstrdup(cli->manifest_path) : manifest_find(".");
    if (!path && !required)
        return 0;
    if (!path)
        return cli_error(cli, OTAP_EINVALID,
                         "no otap.yaml in this directory or any parent; 'otap init' writes one, "
                         "or name one with --manifest");
    struct diag_list dl;
    /* messages name the file as the user would type it */
    char *shown = path;
    char *cwd = getcwd(NULL, 0);
    size_t cl = cwd ? strlen(cwd) : 0;
    if (cwd && !strncmp(path, cwd, cl) && path[cl] == '/')
        shown = path + cl + 1;
    diag_list_init(&dl, shown);
    cli->m = manifest_load_file(path, &dl);
    int rc = 0;
    if (!cli->m) {
        if (cli->json) {
            json_t *doc =
                json_pack("{s:b, s:{s:s, s:s}, s:o}", "ok", 0, "error", "code", "invalid",
                          "message", "invalid manifest", "diagnostics", cli_diags_json(&dl));
            cli_emit(cli, doc, NULL);
        } else {
            cli_print_diags(cli, &dl, stderr);
            size_t n = diag_count(&dl, DIAG_ERROR);
            fprintf(stderr, "%s: %zu error%s; nothing was done\n", shown, n, n == 1 ? "" : "s");
        }
        rc = OTAP_EINVALID;
        diag_list_release(&dl);
    } else {
        if (!cli->quiet && !cli->json && !(cli->cmd->flags & CMD_OWNS_WARNINGS))
            cli_print_diags(cli, &dl, stderr);
        cli->warnings = dl;
    }
    free(cwd);
    free(path);
    return rc;
}

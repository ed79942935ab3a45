/*
 * The command layer's shared output: results as text or JSON, errors
 * reported once, diagnostics in FILE:LINE:COL form, colour only when it
 * helps (a terminal, and no NO_COLOR).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "config/envredact.h"
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
    case OTAP_ENOTFOUND:
        return "not_found";
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

/* After a usage error: where the help is. */
static void usage_hint(struct cli *cli)
{
    if (!cli->json) {
        if (cli->words)
            fprintf(stderr, "see '%s --help'\n", cli->words);
        else if (cli->cmd && strcmp(cli->cmd->name, "help"))
            fprintf(stderr, "see 'otap %s --help'\n", cli->cmd->name);
        else
            fprintf(stderr, "see 'otap --help'\n");
    }
}

int cli_fail(struct cli *cli, int code, struct otap_err *err)
{
    cli_error(cli, code, "%s", err && err->msg ? err->msg : "failed");
    if (code == OTAP_EUSAGE || code == OTAP_ENOTFOUND)
        usage_hint(cli);
    otap_err_release(err);
    return code;
}

int cli_usage_error(struct cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cli, OTAP_EUSAGE, fmt, ap);
    va_end(ap);
    usage_hint(cli);
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

/* ---- options ------------------------------------------------------------ */

static int opt_index(const struct cli_opt *opts, const char *name)
{
    for (int i = 0; opts && opts[i].name; i++)
        if (!strcmp(opts[i].name, name))
            return i;
    return -1;
}

static int opt_index_checked(const struct cli_args *a, const char *name)
{
    int i = opt_index(a->opts, name);
    /* a command asking for an option it never declared is a bug, not input */
    if (i < 0) {
        fprintf(stderr, "otap: internal error: no option '--%s' in this command's table\n", name);
        abort();
    }
    return i;
}

const char *cli_opt(const struct cli_args *a, const char *name)
{
    return a->values[opt_index_checked(a, name)];
}

bool cli_flag(const struct cli_args *a, const char *name)
{
    return a->values[opt_index_checked(a, name)] != NULL;
}

const struct cmd *cli_find_verb(const struct cmd *c, const char *name)
{
    for (const struct cmd *v = c->verbs; v && v->name; v++)
        if (!strcmp(v->name, name))
            return v;
    return NULL;
}

void cli_args_release(struct cli_args *a)
{
    free(a->argv);
    memset(a, 0, sizeof(*a));
}

/*
 * GNU conventions without getopt's global state: --name VALUE,
 * --name=VALUE, -x VALUE, -xVALUE; options may follow operands unless
 * the command takes them first; "--" ends the options.
 */
int cli_parse(struct cli *cli, const struct cmd *c, int argc, char **argv, struct cli_args *a)
{
    memset(a, 0, sizeof(*a));
    a->opts = c->opts;
    a->argv = xcalloc((size_t)argc + 1, sizeof(char *));
    a->argv[a->argc++] = argv[0];
    bool rest = false;
    for (int i = 1; i < argc; i++) {
        char *w = argv[i];
        if (rest || w[0] != '-' || !w[1]) {
            a->argv[a->argc++] = w;
            if (cli->flags & CMD_OPTIONS_FIRST)
                rest = true;
            continue;
        }
        if (!strcmp(w, "--") && !rest) {
            rest = true;
            a->dashdash = a->argc;
            continue;
        }
        int k = -1;
        const char *value = NULL;
        if (w[1] == '-') {
            const char *eq = strchr(w, '=');
            size_t len = eq ? (size_t)(eq - w - 2) : strlen(w + 2);
            for (int j = 0; c->opts && c->opts[j].name; j++)
                if (strlen(c->opts[j].name) == len && !strncmp(c->opts[j].name, w + 2, len))
                    k = j;
            if (k >= 0 && eq) {
                if (!c->opts[k].arg) {
                    cli_args_release(a);
                    return cli_usage_error(cli, "option '--%s' takes no value", c->opts[k].name);
                }
                value = eq + 1;
            }
        } else {
            for (int j = 0; c->opts && c->opts[j].name; j++)
                if (c->opts[j].short_name && c->opts[j].short_name == w[1])
                    k = j;
            if (k >= 0 && w[2]) {
                if (!c->opts[k].arg) {
                    k = -1; /* -nq and the like: not supported, say which word */
                } else {
                    value = w + 2;
                }
            }
        }
        if (k < 0) {
            cli_args_release(a);
            return cli_usage_error(cli, "unknown option '%s'", w);
        }
        if (c->opts[k].arg && !value) {
            if (i + 1 >= argc) {
                cli_args_release(a);
                return cli_usage_error(cli, "option '%s' needs an argument", w);
            }
            value = argv[++i];
        }
        a->values[k] = c->opts[k].arg ? value : "";
    }
    a->argv[a->argc] = NULL;
    return 0;
}

int cli_operands_at_most(struct cli *cli, const struct cli_args *a, int n)
{
    if (a->argc - 1 > n)
        return cli_usage_error(cli, "unexpected argument '%s'", a->argv[n + 1]);
    return 0;
}

/* ---- help ---------------------------------------------------------------- */

/*
 * The usage lines of c: its synopsis (a line starting with a space
 * continues the one before), or one made from its options; a verb that
 * only has verbs shows theirs. Returns the lead for the next line.
 */
static const char *print_synopsis(const struct cmd *c, const char *words, const char *lead,
                                  FILE *out)
{
    static const char more[] = "       ";
    if (!c->run) {
        for (const struct cmd *v = c->verbs; v && v->name; v++) {
            char *vw = xasprintf("%s %s", words, v->name);
            lead = print_synopsis(v, vw, lead, out);
            free(vw);
        }
        return lead;
    }
    if (!c->synopsis) {
        fprintf(out, "%s%s", lead, words);
        for (const struct cli_opt *o = c->opts; o && o->name; o++)
            fprintf(out, " [--%s%s%s]", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fputc('\n', out);
        return more;
    }
    for (const char *line = c->synopsis;;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        if (line[0] == ' ')
            fprintf(out, "%s%*s%.*s\n", more, (int)strlen(words), "", len, line);
        else
            fprintf(out, "%s%s%s%.*s\n", lead, words, len ? " " : "", len, line);
        lead = more;
        if (!nl)
            break;
        line = nl + 1;
    }
    return lead;
}

static char *option_head(const struct cli_opt *o)
{
    const char *sp = o->arg ? " " : "", *arg = o->arg ? o->arg : "";
    return o->short_name ? xasprintf("-%c, --%s%s%s", o->short_name, o->name, sp, arg)
                         : xasprintf("    --%s%s%s", o->name, sp, arg);
}

static void print_options(const struct cli_opt *opts, FILE *out)
{
    if (!opts || !opts->name)
        return;
    int width = 0;
    for (const struct cli_opt *o = opts; o->name; o++) {
        char *head = option_head(o);
        int len = (int)strlen(head);
        width = len > width && len <= 30 ? len : width;
        free(head);
    }
    fputs("\noptions:\n", out);
    for (const struct cli_opt *o = opts; o->name; o++) {
        char *head = option_head(o);
        /* a head too long for the column gets its own line */
        if ((int)strlen(head) > width)
            fprintf(out, "  %s\n  %*s  %s\n", head, width, "", o->help);
        else
            fprintf(out, "  %-*s  %s\n", width, head, o->help);
        free(head);
    }
}

/* words: "otap db marker"; exits: what t inherits when it says nothing */
static void print_help(const char *words, const struct cmd *t, const char *exits, FILE *out)
{
    fprintf(out, "%s: %s\n\n", words, t->summary);
    const char *lead = "usage: ";
    if (t->run && (t->opts || t->synopsis || !t->verbs))
        lead =
            print_synopsis(&(struct cmd){.run = t->run, .synopsis = t->synopsis, .opts = t->opts},
                           words, lead, out);
    for (const struct cmd *v = t->verbs; v && v->name; v++) {
        char *vw = xasprintf("%s %s", words, v->name);
        lead = print_synopsis(v, vw, lead, out);
        free(vw);
    }
    if (t->verbs) {
        int width = 0;
        for (const struct cmd *v = t->verbs; v->name; v++)
            width = (int)strlen(v->name) > width ? (int)strlen(v->name) : width;
        fputs("\nverbs:\n", out);
        for (const struct cmd *v = t->verbs; v->name; v++)
            fprintf(out, "  %-*s  %s\n", width, v->name, v->summary);
    }
    print_options(t->opts, out);
    if (t->about)
        fprintf(out, "\n%s", t->about);
    if (t->more_help)
        t->more_help(out);
    if (t->exits || exits)
        fprintf(out, "\nexit: %s\n", t->exits ? t->exits : exits);
    if (t->verbs)
        fprintf(out, "\n'%s VERB --help' shows a verb's options.\n", words);
}

void cli_print_wrapped(FILE *out, int first_col, int indent, const char *text)
{
    int col = first_col;
    for (const char *p = text + strspn(text, " "); *p; p += strspn(p, " ")) {
        int word = (int)strcspn(p, " ");
        if (p != text + strspn(text, " ")) {
            if (col + 1 + word > 80) {
                fprintf(out, "\n%*s", indent, "");
                col = indent;
            } else {
                fputc(' ', out);
                col++;
            }
        }
        fprintf(out, "%.*s", word, p);
        col += word;
        p += word;
    }
    fputc('\n', out);
}

static const char main_usage[] =
    "usage: otap [-C DIR] [--manifest FILE] [--json] [--quiet] [--no-color] <command> [<args>]\n"
    "       otap --version | --help | help <command> [<verb>]\n"
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

void cli_print_main_help(FILE *out)
{
    fputs(main_usage, out);
    for (const struct cmd *const *c = otap_commands; *c; c++)
        fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
    fputs("\nexit codes: 0 ok, 1 problems found, 2 usage, 3 invalid manifest or config,\n"
          "4 refused for safety, 5 an external system failed.\n"
          "'otap help <command>' shows a command's options.\n",
          out);
}

/* ---- dispatch ------------------------------------------------------------ */

static char *verb_list(const struct cmd *c, const char *sep, const char *last)
{
    struct strbuf sb = STRBUF_INIT;
    size_t n = 0, i = 0;
    for (const struct cmd *v = c->verbs; v->name; v++)
        n++;
    for (const struct cmd *v = c->verbs; v->name; v++, i++)
        strbuf_addf(&sb, "%s%s", i == 0 ? "" : i + 1 == n ? last : sep, v->name);
    return strbuf_detach(&sb, NULL);
}

int cli_dispatch(struct cli *cli, int argc, char **argv, bool help)
{
    const struct cmd *c = cli_find_command(argv[0]);
    if (!c) {
        const char *s = cli_suggest_command(argv[0]);
        if (s)
            return cli_usage_error(cli, "'%s' is not an otap command (did you mean '%s'?)", argv[0],
                                   s);
        return cli_usage_error(cli, "'%s' is not an otap command", argv[0]);
    }
    cli->cmd = c;
    struct strbuf words = STRBUF_INIT;
    strbuf_addf(&words, "otap %s", c->name);
    const struct cmd *t = c;
    const char *exits = c->exits;
    unsigned flags = c->flags;
    int rc = 0;
    /* down the verbs: otap db marker init */
    while (t->verbs) {
        const struct cmd *v = argc > 1 ? cli_find_verb(t, argv[1]) : NULL;
        if (v) {
            cli->verb = t = v;
            flags |= v->flags;
            exits = v->exits ? v->exits : exits;
            strbuf_addf(&words, " %s", v->name);
            cli->words = words.buf;
            argc--;
            argv++;
            continue;
        }
        if (help || t->run)
            break;
        char *list = verb_list(t, ", ", " or ");
        if (argc < 2 || argv[1][0] == '-') {
            rc = cli_usage_error(cli, "'%s' needs a verb: %s", words.buf, list);
        } else {
            const char *names[32] = {0};
            size_t n = 0;
            for (const struct cmd *w = t->verbs; w->name && n < 31; w++)
                names[n++] = w->name;
            const char *s = suggest_closest(argv[1], names);
            if (s)
                rc = cli_usage_error(cli, "'%s' has no verb '%s' (did you mean '%s'?)", words.buf,
                                     argv[1], s);
            else
                rc = cli_usage_error(cli, "'%s' has no verb '%s' (%s)", words.buf, argv[1], list);
        }
        free(list);
        goto out;
    }
    cli->flags = flags;
    if (help) {
        print_help(words.buf, t, exits, stdout);
        goto out;
    }
    if (cli->json && !(flags & CMD_REPORTS_JSON)) {
        cli->json = false;
        rc = cli_usage_error(cli, "'%s' has no --json output", words.buf);
        goto out;
    }
    struct cli_args a;
    if ((rc = cli_parse(cli, t, argc, argv, &a)) < 0)
        goto out;
    if ((flags & CMD_NEEDS_MANIFEST))
        rc = cli_load_manifest(cli, !(flags & CMD_MANIFEST_OPTIONAL));
    if (rc == 0)
        rc = t->run(cli, &a);
    cli_args_release(&a);
out:
    cli->words = NULL;
    strbuf_release(&words);
    return rc;
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
        /* the project's secrets are known before anything about it is printed */
        cli_arm_redaction(cli);
        if (!cli->quiet && !cli->json && !(cli->cmd->flags & CMD_OWNS_WARNINGS))
            cli_print_diags(cli, &dl, stderr);
        cli->warnings = dl;
    }
    free(cwd);
    free(path);
    return rc;
}

/* ---- redacting streams --------------------------------------------------- */

extern char **environ;

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int emit(struct cli_stream *st, const char *p, size_t n)
{
    if (!st->structural && !st->r)
        return write_all(st->fd, p, n);
    size_t len = 0;
    char *safe = redactor_apply(st->r, p, n, &len);
    int rc = write_all(st->fd, safe, len);
    explicit_bzero(safe, len);
    free(safe);
    return rc;
}

/* fopencookie's write: whole lines out, the rest kept for the next call */
static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
    struct cli_stream *st = cookie;
    strbuf_add(&st->pending, buf, size);
    const char *nl = memrchr(st->pending.buf, '\n', st->pending.len);
    /* a line that never ends (a progress bar) goes out after 64 KiB anyway */
    size_t upto = nl                              ? (size_t)(nl - st->pending.buf) + 1
                  : st->pending.len > (64u << 10) ? st->pending.len
                                                  : 0;
    if (upto) {
        int rc = emit(st, st->pending.buf, upto);
        size_t rest = st->pending.len - upto;
        memmove(st->pending.buf, st->pending.buf + upto, rest);
        explicit_bzero(st->pending.buf + rest, upto);
        strbuf_setlen(&st->pending, rest);
        if (rc < 0)
            return -1;
    }
    return (ssize_t)size;
}

static int stream_close(void *cookie)
{
    struct cli_stream *st = cookie;
    int rc = st->pending.len ? emit(st, st->pending.buf, st->pending.len) : 0;
    strbuf_release(&st->pending);
    return rc;
}

void cli_arm_redaction(struct cli *cli)
{
    envredact_arm(&cli->redact, cli->m, environ);
}

void cli_streams_install(struct cli *cli)
{
    cookie_io_functions_t io = {.write = stream_write, .close = stream_close};
    struct cli_stream *st[2] = {&cli->out, &cli->err};
    FILE **std[2] = {&stdout, &stderr};
    cli_arm_redaction(cli);
    for (int i = 0; i < 2; i++) {
        st[i]->fd = i ? STDERR_FILENO : STDOUT_FILENO;
        strbuf_init(&st[i]->pending, 0);
        st[i]->r = &cli->redact;
        st[i]->structural = true;
        FILE *f = fopencookie(st[i], "w", io);
        if (!f)
            continue; /* out of memory: stdio as it was, still through cli_error's text */
        setvbuf(f, NULL, _IOLBF, 0);
        *std[i] = f;
    }
}

int cli_streams_finish(struct cli *cli)
{
    int rc = 0;
    fflush(stdout);
    fflush(stderr);
    struct cli_stream *st[2] = {&cli->out, &cli->err};
    for (int i = 0; i < 2; i++) {
        if (st[i]->pending.len && emit(st[i], st[i]->pending.buf, st[i]->pending.len) < 0)
            rc = -1;
        /* the memory too: what is written after this starts a new buffer */
        strbuf_release(&st[i]->pending);
    }
    return rc;
}

void cli_reveal_stdout(struct cli *cli)
{
    fflush(stdout);
    cli->out.r = NULL;
    cli->out.structural = false;
}

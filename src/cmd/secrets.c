/*
 * otap secrets: credentials in a working tree, a git history, the staged
 * changes or a stream, found before they land.
 *
 *   scan      report what is found; exit 1 when anything is new
 *   baseline  accept what is found today, so only new findings fail
 *   rules     the rule set in force (built-in and otap.yaml's)
 *   hook      install the pre-commit hook that scans what is staged
 *
 * The manifest is optional: outside a project the built-in rules run with
 * no allowlist. A secret is never printed whole: findings carry a masked
 * excerpt and a fingerprint (a hash of rule, path and secret).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "base/monotime.h"
#include "base/fileio.h"
#include "base/num.h"
#include "secrets/secrets_baseline.h"
#include "secrets/secrets_engine.h"
#include "secrets/secrets_rules.h"
#include "secrets/secrets_scan.h"
#include "base/strbuf.h"
#include "version.h"
#include "vcs/vcs_hook.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define DEFAULT_MAX_SIZE (10LL << 20)
#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

/* ---- the manifest, when there is one ---------------------------------- */

static const struct manifest_secrets *config(const struct cli *cli)
{
    return cli->m ? &cli->m->secrets : NULL;
}

static int build_engine(struct cli *cli, struct secrets_engine *e)
{
    struct otap_err err = OTAP_ERR_INIT;
    int rc = secrets_engine_build(e, config(cli), true, &err);
    if (rc < 0) {
        if (rc == OTAP_EINVALID && cli->m)
            rc = cli_error(cli, rc, "%s:%s", cli->m->path, err.msg + strlen("line "));
        else
            rc = cli_error(cli, rc, "%s", err.msg);
    }
    otap_err_release(&err);
    return rc;
}

/* ---- one scan, as the options say -------------------------------------- */

struct scan_opts {
    bool git, staged, use_stdin, no_ignore, no_baseline, sarif;
    const char *since, *baseline, *stdin_name, *output;
    long long max_size;
    int threads;
    char **paths;
    size_t npaths;
};

static int parse_scan_opts(struct cli *cli, const struct cli_args *args, struct scan_opts *o,
                           bool baseline_cmd)
{
    memset(o, 0, sizeof(*o));
    o->max_size =
        config(cli) && config(cli)->max_file_size ? config(cli)->max_file_size : DEFAULT_MAX_SIZE;
    o->git = cli_flag(args, "git");
    o->since = cli_opt(args, "since");
    o->staged = cli_flag(args, "staged");
    o->use_stdin = cli_flag(args, "stdin");
    o->stdin_name = cli_opt(args, "stdin-name") ? cli_opt(args, "stdin-name") : "(stdin)";
    o->no_ignore = cli_flag(args, "no-ignore");
    o->baseline = cli_opt(args, "baseline");
    if (baseline_cmd) {
        o->output = cli_opt(args, "output");
    } else {
        o->no_baseline = cli_flag(args, "no-baseline");
        o->sarif = cli_flag(args, "sarif");
    }
    long long v;
    const char *max = cli_opt(args, "max-size"), *threads = cli_opt(args, "threads");
    if (max) {
        if (num_parse_ll(max, &v) < 0 || v < 1 || v > (1LL << 31))
            return cli_usage_error(cli, "--max-size '%s' is not a size in bytes (1 to 2 GiB)", max);
        o->max_size = v;
    }
    if (threads) {
        if (num_parse_ll(threads, &v) < 0 || v < 1 || v > 64)
            return cli_usage_error(cli, "--threads '%s' is not a count from 1 to 64", threads);
        o->threads = (int)v;
    }
    o->paths = args->argv + 1;
    o->npaths = (size_t)(args->argc - 1);
    /* --git takes the repository as its one operand; a tree scan takes paths */
    if (o->git && o->npaths > 1)
        return cli_usage_error(cli, "--git scans one repository: --git [REPO]");
    int targets = o->git + o->staged + o->use_stdin + (o->npaths > 0 && !o->git);
    if (targets > 1)
        return cli_usage_error(cli,
                               "scan one target at a time: PATH..., --git, --staged or --stdin");
    if (o->since && !o->git)
        return cli_usage_error(cli, "--since goes with --git");
    if (o->stdin_name != NULL && strcmp(o->stdin_name, "(stdin)") && !o->use_stdin)
        return cli_usage_error(cli, "--stdin-name goes with --stdin");
    if (o->no_ignore && (o->git || o->staged || o->use_stdin))
        return cli_usage_error(cli, "--no-ignore is for working trees");
    if (o->sarif && cli->json)
        return cli_usage_error(cli, "choose --json or --sarif, not both");
    return 0;
}

static int do_scan(struct cli *cli, const struct scan_opts *o, const struct secrets_engine *e,
                   struct secrets_run *run, double *seconds)
{
    memset(run, 0, sizeof(*run));
    run->engine = e;
    run->max_size = o->max_size;
    run->threads = o->threads;
    run->no_ignore = o->no_ignore;
    struct otap_err err = OTAP_ERR_INIT;
    long long t0 = monotime_ns();
    int rc;
    if (o->git)
        rc = secrets_scan_git(run, o->npaths ? o->paths[0] : ".", o->since, &err);
    else if (o->staged)
        rc = secrets_scan_staged(run, ".", &err);
    else if (o->use_stdin)
        rc = secrets_scan_fd(run, STDIN_FILENO, o->stdin_name, &err);
    else
        rc = secrets_scan_paths(run, o->paths, o->npaths, &err);
    *seconds = monotime_seconds_since(t0);
    if (rc < 0) {
        rc = cli_fail(cli, rc, &err);
        secrets_run_release(run);
    }
    otap_err_release(&err);
    return rc;
}

/* ---- reports ----------------------------------------------------------- */

static char *iso_time(long long t, int tz_minutes)
{
    time_t local = (time_t)(t + (long long)tz_minutes * 60);
    struct tm tm;
    gmtime_r(&local, &tm);
    char buf[40];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    int a = tz_minutes < 0 ? -tz_minutes : tz_minutes;
    return xasprintf("%s%c%02d:%02d", buf, tz_minutes < 0 ? '-' : '+', a / 60, a % 60);
}

static json_t *finding_json(const struct secrets_run *run, const struct secret_finding *f,
                            bool baselined)
{
    const struct secrets_rule *r = &run->engine->rules[f->rule];
    const struct secrets_source *src = &run->sources[f->source];
    char *file = secrets_printable(src->path, strlen(src->path));
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:s, s:s, s:f, s:b}", "rule", r->id,
                          "description", r->description, "file", file, "line", f->line, "column",
                          f->col, "end_line", f->end_line, "end_column", f->end_col, "excerpt",
                          f->excerpt, "fingerprint", f->fingerprint, "entropy",
                          (double)(long)(f->entropy * 100 + 0.5) / 100, "new", !baselined);
    free(file);
    if (src->commit >= 0) {
        const struct secrets_commit *c = &run->commits[src->commit];
        char *date = iso_time(c->time, c->tz_minutes);
        char *author = secrets_printable(c->author, strlen(c->author));
        char *email = secrets_printable(c->email, strlen(c->email));
        json_object_set_new(j, "commit",
                            json_pack("{s:s, s:s, s:s, s:s}", "id", c->id, "author", author,
                                      "email", email, "date", date));
        /* the blobs of later commits that still carry it: reported here, once */
        json_object_set_new(j, "occurrences", json_integer((json_int_t)f->occurrences));
        free(date);
        free(author);
        free(email);
    }
    return j;
}

static const char *target_name(const struct scan_opts *o)
{
    return o->git ? "git history" : o->staged ? "staged changes" : o->use_stdin ? "stdin" : "files";
}

static json_t *report_json(const struct secrets_run *run, const struct secrets_baseline *b,
                           const struct scan_opts *o, const struct secrets_engine *e,
                           double seconds, size_t *new_out)
{
    json_t *list = json_array();
    size_t fresh = 0, old = 0;
    for (size_t i = 0; i < run->findings.n; i++) {
        const struct secret_finding *f = &run->findings.items[i];
        bool in = secrets_baseline_has(b, f->fingerprint);
        in ? old++ : fresh++;
        json_array_append_new(list, finding_json(run, f, in));
    }
    json_t *errors = json_array();
    for (size_t i = 0; i < run->nerrors; i++) {
        char *p = secrets_printable(run->errors[i], strlen(run->errors[i]));
        json_array_append_new(errors, json_string(p));
        free(p);
    }
    double mb = (double)run->bytes / 1e6;
    json_t *summary = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:i, s:s, s:f}", "target",
        target_name(o), "files", (json_int_t)run->scanned, "bytes", (json_int_t)run->bytes,
        "commits", (json_int_t)run->ncommits, "skipped_binary", (json_int_t)run->skipped_binary,
        "skipped_large", (json_int_t)run->skipped_large, "skipped_allowlisted",
        (json_int_t)run->skipped_path, "allowed_inline", (json_int_t)run->inline_allowed, "new",
        (json_int_t)fresh, "baselined", (json_int_t)old, "seconds", seconds, "mb_per_s",
        seconds > 0 ? mb / seconds : 0.0, "rules", (int)e->nrules, "database",
        e->cache_hit ? "cached" : "compiled", "database_seconds", e->compile_seconds);
    json_object_set_new(summary, "max_size", json_integer(o->max_size));
    *new_out = fresh;
    return json_pack("{s:b, s:o, s:o, s:o}", "ok", fresh == 0 && run->nerrors == 0, "findings",
                     list, "unreadable", errors, "summary", summary);
}

static void human_size(double bytes, char *buf, size_t n)
{
    if (bytes >= 1e9)
        snprintf(buf, n, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        snprintf(buf, n, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1e3)
        snprintf(buf, n, "%.1f kB", bytes / 1e3);
    else
        snprintf(buf, n, "%.0f B", bytes);
}

static void render_scan(struct cli *cli, json_t *doc, FILE *out)
{
    const char *last = NULL;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "findings"), i, f)
    {
        if (!json_is_true(json_object_get(f, "new")))
            continue;
        const char *file = json_string_value(json_object_get(f, "file"));
        if (!last || strcmp(last, file))
            fprintf(out, "%s%s%s%s\n", last ? "\n" : "", cli_bold(cli), file, cli_reset(cli));
        last = file;
        fprintf(out, "  %lld:%lld  %s%s%s  %s\n",
                (long long)json_integer_value(json_object_get(f, "line")),
                (long long)json_integer_value(json_object_get(f, "column")), cli_red(cli),
                json_string_value(json_object_get(f, "rule")), cli_reset(cli),
                json_string_value(json_object_get(f, "description")));
        fprintf(out, "      %s\n", json_string_value(json_object_get(f, "excerpt")));
        json_t *c = json_object_get(f, "commit");
        long long copies = json_integer_value(json_object_get(f, "occurrences"));
        if (c)
            fprintf(out, "      introduced in %.12s by %s on %.10s%s\n",
                    json_string_value(json_object_get(c, "id")),
                    json_string_value(json_object_get(c, "author")),
                    json_string_value(json_object_get(c, "date")),
                    copies > 1 ? "; later commits still carry it" : "");
        fprintf(out, "      fingerprint %s\n",
                json_string_value(json_object_get(f, "fingerprint")));
    }
    json_array_foreach(json_object_get(doc, "unreadable"), i, f)
        fprintf(stderr, "%swarning:%s cannot read %s\n", cli_yellow(cli), cli_reset(cli),
                json_string_value(f));
    json_t *s = json_object_get(doc, "summary");
#define S(k) ((long long)json_integer_value(json_object_get(s, k)))
    long long fresh = S("new");
    if (cli->quiet) /* the findings alone */
        return;
    char size[32];
    human_size((double)S("bytes"), size, sizeof size);
    if (last)
        fputc('\n', out);
    if (fresh)
        fprintf(out, "%s%lld new secret%s found%s", cli_red(cli), fresh, fresh == 1 ? "" : "s",
                cli_reset(cli));
    else
        fprintf(out, "%sno new secrets%s", cli_green(cli), cli_reset(cli));
    if (S("baselined") || S("allowed_inline")) {
        fprintf(out, " (");
        if (S("baselined"))
            fprintf(out, "%lld in the baseline%s", S("baselined"), S("allowed_inline") ? ", " : "");
        if (S("allowed_inline"))
            fprintf(out, "%lld allowed inline", S("allowed_inline"));
        fprintf(out, ")");
    }
    const char *target = json_string_value(json_object_get(s, "target"));
    long long files = S("files");
    if (!strcmp(target, "git history"))
        fprintf(out, " in %lld blob%s of %lld commit%s", files, files == 1 ? "" : "s", S("commits"),
                S("commits") == 1 ? "" : "s");
    else if (!strcmp(target, "staged changes"))
        fprintf(out, " in %lld staged file%s", files, files == 1 ? "" : "s");
    else if (!strcmp(target, "stdin"))
        fprintf(out, " in standard input");
    else
        fprintf(out, " in %lld file%s", files, files == 1 ? "" : "s");
    fprintf(out, ", %s in %.2f s (%.0f MB/s)\n", size,
            json_real_value(json_object_get(s, "seconds")),
            json_real_value(json_object_get(s, "mb_per_s")));
    if (S("skipped_binary") || S("skipped_large") || S("skipped_allowlisted")) {
        fprintf(out, "skipped:");
        const char *sep = " ";
        if (S("skipped_binary")) {
            fprintf(out, "%s%lld binary", sep, S("skipped_binary"));
            sep = ", ";
        }
        if (S("skipped_large")) {
            char lim[32];
            human_size((double)S("max_size"), lim, sizeof lim);
            fprintf(out, "%s%lld larger than %s (--max-size)", sep, S("skipped_large"), lim);
            sep = ", ";
        }
        if (S("skipped_allowlisted"))
            fprintf(out, "%s%lld on allowlisted paths", sep, S("skipped_allowlisted"));
        fputc('\n', out);
    }
    if (fresh)
        fprintf(out,
                "remove each secret and rotate it; a false alarm takes an 'otap:allow' comment "
                "on its line, or 'otap secrets baseline'\n");
#undef S
}

/*
 * SARIF 2.1.0 as GitHub code scanning takes it: one run, the rules that
 * fired as reportingDescriptors, relative URIs, partialFingerprints, and
 * baselineState so that accepted findings are not raised as new.
 */
static json_t *report_sarif(const struct secrets_run *run, const struct secrets_baseline *b)
{
    const struct secrets_engine *e = run->engine;
    json_t *rules = json_array();
    int *index = xcalloc(e->nrules, sizeof(int));
    for (size_t i = 0; i < e->nrules; i++)
        index[i] = -1;
    json_t *results = json_array();
    for (size_t i = 0; i < run->findings.n; i++) {
        const struct secret_finding *f = &run->findings.items[i];
        const struct secrets_rule *r = &e->rules[f->rule];
        if (index[f->rule] < 0) {
            index[f->rule] = (int)json_array_size(rules);
            json_array_append_new(
                rules, json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:[s]}}", "id", r->id,
                                 "name", r->id, "shortDescription", "text", r->description,
                                 "fullDescription", "text", r->description, "defaultConfiguration",
                                 "level", "error", "properties", "tags", "security"));
        }
        const struct secrets_source *src = &run->sources[f->source];
        char *uri = secrets_printable(src->path, strlen(src->path));
        bool in = secrets_baseline_has(b, f->fingerprint);
        char *msg = xasprintf("%s: %s", r->description, f->excerpt);
        json_t *res = json_pack(
            "{s:s, s:i, s:s, s:{s:s}, s:[{s:{s:{s:s}, s:{s:i, s:i, s:i, s:i, s:{s:s}}}}], "
            "s:{s:s}, s:s}",
            "ruleId", r->id, "ruleIndex", index[f->rule], "level", "error", "message", "text", msg,
            "locations", "physicalLocation", "artifactLocation", "uri", uri, "region", "startLine",
            f->line, "startColumn", f->col, "endLine", f->end_line, "endColumn", f->end_col + 1,
            "snippet", "text", f->excerpt, "partialFingerprints", "otapSecret/v1", f->fingerprint,
            "baselineState", in ? "unchanged" : "new");
        if (src->commit >= 0) {
            const struct secrets_commit *c = &run->commits[src->commit];
            char *author = secrets_printable(c->author, strlen(c->author));
            char *date = iso_time(c->time, c->tz_minutes);
            json_object_set_new(
                res, "properties",
                json_pack("{s:s, s:s, s:s}", "commit", c->id, "author", author, "date", date));
            free(author);
            free(date);
        }
        json_array_append_new(results, res);
        free(uri);
        free(msg);
    }
    free(index);
    return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:o}}, s:o}]}", "$schema", SARIF_SCHEMA,
                     "version", "2.1.0", "runs", "tool", "driver", "name", "otap",
                     "semanticVersion", OTAP_VERSION, "rules", rules, "results", results);
}

/* ---- verbs ------------------------------------------------------------- */

/* SARIF is JSON of its own shape: --sarif and --json are never given together */
static void render_sarif(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
}

static int verb_scan(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_load_manifest(cli, false);
    if (rc < 0)
        return rc;
    struct scan_opts o;
    if ((rc = parse_scan_opts(cli, args, &o, false)) < 0)
        return rc;
    struct secrets_baseline b = {0};
    if (!o.no_baseline) {
        char *path = o.baseline ? xstrdup(o.baseline) : secrets_baseline_path(cli->m);
        struct otap_err err = OTAP_ERR_INIT;
        rc = secrets_baseline_load(&b, path, o.baseline != NULL, &err);
        free(path);
        if (rc < 0) {
            rc = cli_error(cli, rc, "%s", err.msg);
            otap_err_release(&err);
            return rc;
        }
    }
    struct secrets_engine e;
    struct secrets_run run;
    double seconds = 0;
    if ((rc = build_engine(cli, &e)) == 0 && (rc = do_scan(cli, &o, &e, &run, &seconds)) == 0) {
        size_t fresh = 0;
        json_t *doc = report_json(&run, &b, &o, &e, seconds, &fresh);
        if (o.sarif) {
            json_decref(doc);
            cli_emit(cli, report_sarif(&run, &b), render_sarif);
        } else {
            cli_emit(cli, doc, render_scan);
        }
        rc = fresh ? OTAP_EFOUND : run.nerrors ? OTAP_EREFUSED : OTAP_OK;
        if (rc == OTAP_EREFUSED && !cli->json && !o.sarif)
            fprintf(stderr,
                    "error: %zu input%s could not be read, so the scan cannot say they "
                    "hold no secret\n",
                    run.nerrors, run.nerrors == 1 ? "" : "s");
        secrets_run_release(&run);
    }
    if (e.db || rc == 0)
        secrets_engine_release(&e);
    xfree_strv(b.fps, b.n);
    return rc;
}

static void render_baseline(struct cli *cli, json_t *doc, FILE *out)
{
    if (cli->quiet)
        return;
    size_t n = (size_t)json_integer_value(json_object_get(doc, "accepted"));
    fprintf(out, "wrote %s: %zu finding%s accepted; from now on only new ones fail\n",
            json_string_value(json_object_get(doc, "baseline")), n, n == 1 ? "" : "s");
}

static int verb_baseline(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_load_manifest(cli, false);
    if (rc < 0)
        return rc;
    struct scan_opts o;
    if ((rc = parse_scan_opts(cli, args, &o, true)) < 0)
        return rc;
    if (o.baseline && o.output)
        return cli_usage_error(cli, "name the file with --output");
    char *path = o.output     ? xstrdup(o.output)
                 : o.baseline ? xstrdup(o.baseline)
                              : secrets_baseline_path(cli->m);
    struct secrets_engine e;
    struct secrets_run run;
    double seconds;
    if ((rc = build_engine(cli, &e)) < 0) {
        free(path);
        return rc;
    }
    if ((rc = do_scan(cli, &o, &e, &run, &seconds)) == 0) {
        if (run.nerrors) {
            rc = cli_refused(cli, "a baseline of what could not be read would hide it", run.errors,
                             run.nerrors, NULL);
        } else {
            struct otap_err err = OTAP_ERR_INIT;
            if ((rc = secrets_baseline_write(path, &run, &err)) < 0) {
                rc = cli_error(cli, rc, "%s", err.msg);
                otap_err_release(&err);
            } else {
                cli_emit(cli,
                         json_pack("{s:b, s:s, s:I}", "ok", 1, "baseline", path, "accepted",
                                   (json_int_t)run.findings.n),
                         render_baseline);
            }
        }
        secrets_run_release(&run);
    }
    secrets_engine_release(&e);
    free(path);
    return rc;
}

static void render_rules(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "rules"), i, r)
        fprintf(out, "%-36s %s%s\n", json_string_value(json_object_get(r, "id")),
                json_string_value(json_object_get(r, "description")),
                json_is_true(json_object_get(r, "custom")) ? " (otap.yaml)" : "");
    if (!cli->quiet)
        fprintf(out, "%zu rules\n", json_array_size(json_object_get(doc, "rules")));
}

static int verb_rules(struct cli *cli, const struct cli_args *args)
{
    if (args->argc > 1)
        return cli_usage_error(cli, "'otap secrets rules' takes no arguments");
    int rc = cli_load_manifest(cli, false);
    if (rc < 0)
        return rc;
    struct secrets_engine e;
    if ((rc = build_engine(cli, &e)) < 0)
        return rc;
    json_t *list = json_array();
    for (size_t i = 0; i < e.nrules; i++) {
        const struct secrets_rule *r = &e.rules[i];
        json_t *kw = json_array();
        for (size_t k = 0; k < r->nkeywords; k++)
            json_array_append_new(kw, json_string(r->keywords[k]));
        const char *gl = NULL;
        for (size_t k = 0; !r->custom && k < secret_builtin_nrules; k++)
            if (!strcmp(secret_builtin_rules[k].id, r->id))
                gl = secret_builtin_rules[k].gitleaks;
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:o, s:f, s:i, s:b, s:b, s:s?}", "id", r->id,
                            "description", r->description, "pattern", r->pattern, "keywords", kw,
                            "entropy", r->entropy, "secret_group", r->group, "custom", r->custom,
                            "generic", (r->flags & SR_GENERIC) != 0, "gitleaks", gl));
    }
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "rules", list), render_rules);
    secrets_engine_release(&e);
    return 0;
}

#define HOOK_MARK "secrets scan --staged"

static void render_hook(struct cli *cli, json_t *doc, FILE *out)
{
    if (!cli->quiet)
        fprintf(out, "installed %s: each commit's staged changes are scanned first\n",
                json_string_value(json_object_get(doc, "hook")));
}

static int verb_hook_install(struct cli *cli, const struct cli_args *args)
{
    bool force = cli_flag(args, "force");
    int orc = cli_operands_at_most(cli, args, 0);
    if (orc)
        return orc;
    char *exe = realpath("/proc/self/exe", NULL);
    char *script =
        xasprintf("#!/bin/sh\n"
                  "# Installed by 'otap secrets hook install': a commit that adds a secret is\n"
                  "# refused. A false alarm takes an 'otap:allow' comment on its line, or\n"
                  "# 'otap secrets baseline'. Skipping the check once: git commit --no-verify\n"
                  "otap='%s'\n"
                  "[ -x \"$otap\" ] || otap=otap\n"
                  "exec \"$otap\" " HOOK_MARK "\n",
                  exe ? exe : "otap");
    struct otap_err err = OTAP_ERR_INIT;
    char *path = NULL;
    int rc = vcs_hook_install(".", "pre-commit", script, HOOK_MARK, force, &path, &err);
    if (rc == OTAP_EREFUSED)
        rc = cli_refused(cli, "the pre-commit hook was left as it is", &err.msg, 1, NULL);
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

#define TARGET_OPTS                                                                                \
    {"git", 0, NULL, "the whole git history, every blob once"},                                    \
        {"since", 0, "REV", "with --git: take what REV holds as scanned"},                         \
        {"staged", 0, NULL, "what is staged, as the pre-commit hook does"},                        \
        {"stdin", 0, NULL, "standard input"},                                                      \
        {"stdin-name", 0, "NAME", "the name findings in standard input carry"},                    \
        {"no-ignore", 0, NULL, "scan what .gitignore excludes too"},                               \
        {"baseline", 0, "FILE", "the baseline (default .otap-secrets-baseline.json)"},             \
        {"max-size", 0, "BYTES", "skip files larger (default 10 MiB, or secrets.max_file_size)"},  \
    {                                                                                              \
        "threads", 0, "N", "worker threads (default: one per core)"                                \
    }

static const struct cmd hook_verbs[] = {
    {
        .name = "install",
        .summary = "write the pre-commit hook that scans each commit's staged changes",
        .opts =
            (const struct cli_opt[]){
                {"force", 0, NULL, "replace a pre-commit hook that is not otap's"},
                {0},
            },
        .run = verb_hook_install,
    },
    {0},
};

static const struct cmd verbs[] = {
    {
        .name = "scan",
        .summary = "report the credentials in a tree, the history, the index or stdin",
        .synopsis = "[PATH...] [--no-ignore] [--max-size BYTES] [--threads N]\n"
                    "--git [--since REV] [REPO]\n"
                    "--staged\n"
                    "--stdin [--stdin-name NAME]\n"
                    " [--baseline FILE | --no-baseline] [--sarif] [--json]",
        .opts =
            (const struct cli_opt[]){
                TARGET_OPTS,
                {"no-baseline", 0, NULL, "report every finding, the accepted ones too"},
                {"sarif", 0, NULL, "print SARIF 2.1.0 for code scanning"},
                {0},
            },
        .run = verb_scan,
    },
    {
        .name = "baseline",
        .summary = "accept every current finding: from now on only new ones fail",
        .synopsis = "[target as for scan] [--output FILE]",
        .opts =
            (const struct cli_opt[]){
                TARGET_OPTS,
                {"output", 'o', "FILE", "write the baseline here"},
                {0},
            },
        .run = verb_baseline,
    },
    {
        .name = "rules",
        .summary = "the rules in force: built-in and otap.yaml's",
        .synopsis = "[--json]",
        .run = verb_rules,
    },
    {
        .name = "hook",
        .summary = "install the pre-commit hook",
        .verbs = hook_verbs,
    },
    {0},
};

const struct cmd cmd_secrets = {
    .name = "secrets",
    .summary = "find credentials in files, git history or staged changes",
    .about = "scan reads a working tree (default: .; .gitignore is honoured inside a git\n"
             "repository unless --no-ignore), the whole git history (--git: every blob\n"
             "once; each secret reported once, at the commit that introduced it, with\n"
             "the count of blobs that carry it), what is staged\n"
             "(--staged), or standard input. Binary files and files over --max-size are\n"
             "skipped and counted.\n"
             "\n"
             "Findings show rule, file, line, column, a masked excerpt and a fingerprint;\n"
             "a secret is never printed whole. Findings whose fingerprint is in the\n"
             "baseline (.otap-secrets-baseline.json beside otap.yaml, or secrets.baseline)\n"
             "are accepted; an 'otap:allow' comment on a line silences it. otap.yaml's\n"
             "'secrets' section adds rules, disables built-in ones and sets allowlists\n"
             "(docs/secrets.md).\n",
    .exits = "0 nothing new, 1 new findings, 2 usage, 3 invalid otap.yaml or\n"
             "      baseline, 4 an input could not be read (nothing can be said about it)\n"
             "      or a foreign hook is in the way, 5 git or the scanner failed",
    .flags = CMD_REPORTS_JSON,
    .verbs = verbs,
};

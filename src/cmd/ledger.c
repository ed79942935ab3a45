/*
 * otap ledger show | verify | export: the audit trail, and proof that
 * nobody rewrote it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "state/ledger.h"
#include "base/num.h"
#include "state/store.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* exported files are read whole; a ledger of a million entries is ~500 MB */
#define LEDGER_FILE_MAX ((size_t)1 << 31)

struct opts {
    const char *env, *since;
    long long after, limit;
};

/* The filter that show and export share. */
static int parse(struct cli *cli, const struct cli_args *args, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->env = cli_opt(args, "env");
    o->since = cli_opt(args, "since");
    const char *names[] = {"after", "limit"};
    long long *slots[] = {&o->after, &o->limit};
    for (size_t i = 0; i < 2; i++) {
        const char *v = cli_opt(args, names[i]);
        if (v && (num_parse_ll(v, slots[i]) < 0 || *slots[i] < 0))
            return cli_usage_error(cli, "--%s '%s' is not a count", names[i], v);
    }
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    if (o->env) {
        const struct manifest_env *e = manifest_env_find(cli->m, o->env);
        if (!e)
            return cli_usage_error(cli, "no environment '%s' in the manifest", o->env);
        o->env = e->name;
    }
    return 0;
}

static void render_show(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "entries"), i, e)
    {
        const char *env = json_string_value(json_object_get(e, "env"));
        const char *subject = json_string_value(json_object_get(e, "subject"));
        char *details = json_dumps(json_object_get(e, "details"), JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(out, "%s#%lld%s %s %s%s%s %s%s%s%s  by %s\n    %s\n", cli_bold(cli),
                (long long)json_integer_value(json_object_get(e, "seq")), cli_reset(cli),
                json_string_value(json_object_get(e, "at")), cli_bold(cli),
                json_string_value(json_object_get(e, "action")), cli_reset(cli), env ? env : "",
                env && subject ? " " : "", subject ? subject : "", "",
                json_string_value(json_object_get(e, "actor")), details ? details : "{}");
        free(details);
    }
    if (!i && !cli->quiet)
        fprintf(out, "the ledger has no entries%s\n",
                json_object_size(json_object_get(doc, "filter")) ? " that match" : "");
}

static int open_store(struct cli *cli, struct store **s)
{
    return cli_store_open(cli, s);
}

static int store_fail(struct cli *cli, struct store *s, struct otap_err *err, int rc)
{
    rc = cli_error(cli, rc, "%s", err->msg);
    otap_err_release(err);
    store_close(s);
    return rc;
}

static json_t *entries_json(const struct ledger_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++) {
        json_t *o = ledger_entry_json(&l->items[i]);
        json_object_del(o, "details_text");
        json_array_append_new(a, o);
    }
    return a;
}

static int run_show(struct cli *cli, const struct cli_args *args)
{
    struct opts o;
    int rc = parse(cli, args, &o);
    if (rc < 0)
        return rc;
    struct store *s;
    if ((rc = open_store(cli, &s)) < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    struct ledger_list l;
    struct ledger_filter f = {o.env, o.since, o.after, o.limit};
    if ((rc = ledger_read(s, &f, &l, &err)) < 0)
        return store_fail(cli, s, &err, rc);
    cli_emit(cli,
             json_pack("{s:b, s:{s:s?, s:s?}, s:o}", "ok", 1, "filter", "env", o.env, "since",
                       o.since, "entries", entries_json(&l)),
             render_show);
    ledger_list_release(&l);
    store_close(s);
    return 0;
}

static void render_verify(struct cli *cli, json_t *doc, FILE *out)
{
    const char *source = json_string_value(json_object_get(doc, "source"));
    long long n = json_integer_value(json_object_get(doc, "entries"));
    json_t *p = json_object_get(doc, "problem");
    if (!p) {
        if (!cli->quiet)
            fprintf(out, "%sledger verified:%s %lld entr%s, chain intact (%s)\n", cli_green(cli),
                    cli_reset(cli), n, n == 1 ? "y" : "ies", source);
        return;
    }
    fprintf(out, "%sledger broken:%s %s\n", cli_red(cli), cli_reset(cli),
            json_string_value(json_object_get(p, "message")));
    fprintf(out, "  first bad entry: %lld (%s); %lld entr%s read from %s\n",
            (long long)json_integer_value(json_object_get(p, "seq")),
            json_string_value(json_object_get(p, "kind")), n, n == 1 ? "y" : "ies", source);
}

static int verify_emit(struct cli *cli, const struct ledger_list *l, long long head_seq,
                       const char *head_hash, const char *source)
{
    struct ledger_problem p;
    bool ok = ledger_verify(l, head_seq, head_hash, &p);
    json_t *doc =
        json_pack("{s:b, s:s, s:I}", "ok", ok, "source", source, "entries", (json_int_t)l->n);
    if (!ok)
        json_object_set_new(doc, "problem",
                            json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)p.seq, "kind", p.kind,
                                      "message", p.message));
    cli_emit(cli, doc, render_verify);
    ledger_problem_release(&p);
    return ok ? 0 : OTAP_EFOUND;
}

static int verify_file(struct cli *cli, const char *path)
{
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "r");
    if (!f)
        return cli_error(cli, errno == ENOENT ? OTAP_EUSAGE : OTAP_EEXTERNAL,
                         "cannot read '%s': %s", path, strerror(errno));
    struct ledger_list l = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len == 0 || (len == 1 && line[0] == '\n'))
            continue;
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)len, 0, &jerr);
        char *why = NULL;
        struct ledger_entry e;
        if (!o)
            why = xasprintf("not JSON: %s", jerr.text);
        else if (!json_is_object(o))
            why = xstrdup("not a JSON object");
        else if (ledger_entry_from_json(o, &e, &why) == 0)
            *XPUSH(&l.items, &l.n, &l.alloc) = e;
        json_decref(o);
        if (why) {
            rc = cli_error(cli, OTAP_EINVALID, "%s:%d: %s", path, lineno, why);
            free(why);
            break;
        }
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc == 0)
        rc = verify_emit(cli, &l, -1, NULL, path);
    ledger_list_release(&l);
    return rc;
}

static int run_verify(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    if (cli_opt(args, "file"))
        return verify_file(cli, cli_opt(args, "file"));
    struct store *s;
    if ((rc = open_store(cli, &s)) < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    struct ledger_list l;
    long long head = 0;
    char hash[SHA256_HEX_LEN + 1];
    /* head and entries from one snapshot, so an append meanwhile is not taken for tampering */
    if ((rc = store_begin_snapshot(s, &err)) < 0 || (rc = ledger_head(s, &head, hash, &err)) < 0 ||
        (rc = ledger_read(s, &(struct ledger_filter){0}, &l, &err)) < 0)
        return store_fail(cli, s, &err, rc);
    store_rollback(s);
    rc = verify_emit(cli, &l, head, hash, store_describe(s));
    ledger_list_release(&l);
    store_close(s);
    return rc;
}

/* JSON lines, one entry each, with the hashed details_text: what verify --file reads */
static void render_export(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "entries"), i, e)
    {
        char *line = json_dumps(e, JSON_COMPACT);
        fprintf(out, "%s\n", line);
        free(line);
    }
}

static int run_export(struct cli *cli, const struct cli_args *args)
{
    struct opts o;
    int rc = parse(cli, args, &o);
    if (rc < 0)
        return rc;
    struct store *s;
    if ((rc = open_store(cli, &s)) < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    struct ledger_list l;
    struct ledger_filter f = {o.env, o.since, o.after, o.limit};
    if ((rc = ledger_read(s, &f, &l, &err)) < 0)
        return store_fail(cli, s, &err, rc);
    json_t *entries = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(entries, ledger_entry_json(&l.items[i]));
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "entries", entries), render_export);
    if (!cli->quiet && (o.env || o.since || o.after))
        fprintf(stderr, "note: a filtered export is not one chain; 'ledger verify --file' needs "
                        "the whole ledger\n");
    ledger_list_release(&l);
    store_close(s);
    return 0;
}

#define FILTER_OPTS                                                                                \
    {"env", 'e', "ENV", "only this environment's entries"},                                        \
        {"since", 0, "TIME",                                                                       \
         "only entries at or after a UTC time, or a prefix of one (2026-11-21)"},                  \
        {"after", 0, "SEQ", "only entries after this sequence number"},                            \
    {                                                                                              \
        "limit", 0, "N", "at most N entries"                                                       \
    }

static const struct cmd verbs[] = {
    {
        .name = "show",
        .summary = "the entries, oldest first",
        .opts = (const struct cli_opt[]){FILTER_OPTS, {0}},
        .run = run_show,
    },
    {
        .name = "verify",
        .summary = "recompute the whole chain and name the first entry that is wrong",
        .opts =
            (const struct cli_opt[]){
                {"file", 0, "FILE", "verify an export instead of the store"},
                {0},
            },
        .run = run_verify,
    },
    {
        .name = "export",
        .summary = "the entries as JSON lines on stdout",
        .synopsis = "[--env ENV] [--since TIME] [--after SEQ] [--limit N] > ledger.jsonl",
        .opts = (const struct cli_opt[]){FILTER_OPTS, {0}},
        .run = run_export,
    },
    {0},
};

const struct cmd cmd_ledger = {
    .name = "ledger",
    .summary = "show, verify and export the hash-chained audit ledger",
    .about = "Every state change (a build registered, a gate result, a sign-off, each\n"
             "step of a promotion or rollback) appends one entry in the same\n"
             "transaction: sequence, UTC time, actor, action, environment, subject,\n"
             "details, the previous entry's hash and its own (SHA-256).\n"
             "\n"
             "verify recomputes the chain and names the first entry that was altered,\n"
             "removed, inserted or reordered. export writes JSON lines that\n"
             "'otap ledger verify --file' checks on their own (export the whole ledger\n"
             "for that).\n"
             "\n"
             "The store is .otap/state.db, or OTAP_STATE_URL (postgresql://...).\n",
    .exits = "0 ok (verified), 1 the chain is broken, 2 usage, 3 invalid file,\n"
             "      5 the store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};

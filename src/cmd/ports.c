/*
 * otap ports list|check|free: the seeds' ports:list, ports:check and
 * clean:ports scripts, driven by the manifest's registry.
 *
 * 'free' only ever touches ports inside the registry and never pid 1 or
 * otap itself: asked for a port outside it, it refuses before stopping
 * anything, so a typo cannot kill an unrelated server.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/err.h"
#include "base/num.h"
#include "host/ports.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct verb {
    const char *name;
    const char *summary;
    int (*run)(struct cli *cli, int argc, char **argv);
};

/* ---- list ------------------------------------------------------------- */

static json_t *services_in(const struct manifest *m, const struct manifest_block *b)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->nservices; i++)
        if (m->services[i].port && ports_block_of(m, m->services[i].port) == b)
            json_array_append_new(a, json_pack("{s:s, s:i}", "name", m->services[i].name, "port",
                                               m->services[i].port));
    return a;
}

static json_t *registry_json(const struct manifest *m)
{
    json_t *doc = json_object();
    if (m->ports.has_range)
        json_object_set_new(doc, "range",
                            json_pack("{s:i, s:i}", "from", m->ports.lo, "to", m->ports.hi));
    else
        json_object_set_new(doc, "range", json_null());
    json_t *blocks = json_array();
    for (size_t i = 0; i < m->ports.nblocks; i++) {
        const struct manifest_block *b = &m->ports.blocks[i];
        json_t *o = json_pack("{s:s, s:i, s:i}", "name", b->name, "from", b->lo, "to", b->hi);
        json_object_set_new(o, "within", b->within ? json_string(b->within) : json_null());
        json_object_set_new(o, "purpose", b->purpose ? json_string(b->purpose) : json_null());
        json_object_set_new(o, "services", services_in(m, b));
        json_array_append_new(blocks, o);
    }
    json_object_set_new(doc, "blocks", blocks);
    json_t *svcs = json_array();
    for (size_t i = 0; i < m->nservices; i++) {
        const struct manifest_service *s = &m->services[i];
        if (!s->port)
            continue;
        const struct manifest_block *b = ports_block_of(m, s->port);
        json_array_append_new(svcs, json_pack("{s:s, s:i, s:o}", "name", s->name, "port", s->port,
                                              "block", b ? json_string(b->name) : json_null()));
    }
    json_object_set_new(doc, "services", svcs);
    return doc;
}

static void render_list(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *r = json_object_get(doc, "range");
    if (json_is_object(r))
        fprintf(out, "%sallowed range %d-%d%s\n\n", cli_bold(cli),
                (int)json_integer_value(json_object_get(r, "from")),
                (int)json_integer_value(json_object_get(r, "to")), cli_reset(cli));
    fprintf(out, "%-12s %-11s %-34s %s\n", "BLOCK", "PORTS", "PURPOSE", "SERVICES");
    size_t i, j;
    json_t *b, *s;
    json_array_foreach(json_object_get(doc, "blocks"), i, b)
    {
        char range[32];
        snprintf(range, sizeof(range), "%d-%d", (int)json_integer_value(json_object_get(b, "from")),
                 (int)json_integer_value(json_object_get(b, "to")));
        const char *purpose = json_string_value(json_object_get(b, "purpose"));
        const char *within = json_string_value(json_object_get(b, "within"));
        char *name = within ? xasprintf("  %s", json_string_value(json_object_get(b, "name")))
                            : xstrdup(json_string_value(json_object_get(b, "name")));
        fprintf(out, "%-12s %-11s %-34s ", name, range, purpose ? purpose : "");
        free(name);
        json_array_foreach(json_object_get(b, "services"), j, s)
            fprintf(out, "%s%s:%d", j ? ", " : "", json_string_value(json_object_get(s, "name")),
                    (int)json_integer_value(json_object_get(s, "port")));
        fputc('\n', out);
    }
    json_array_foreach(json_object_get(doc, "services"), i, s)
    {
        if (json_is_null(json_object_get(s, "block")))
            fprintf(out, "%-12s %-11d %-34s %s\n", "(no block)",
                    (int)json_integer_value(json_object_get(s, "port")), "",
                    json_string_value(json_object_get(s, "name")));
    }
}

static int no_args(struct cli *cli, int argc, char **argv, const char *verb)
{
    (void)argv;
    if (argc > 1)
        return cli_usage_error(cli, "'otap ports %s' takes no arguments", verb);
    return 0;
}

static int verb_list(struct cli *cli, int argc, char **argv)
{
    int rc = no_args(cli, argc, argv, "list");
    if (rc)
        return rc;
    cli_emit(cli, registry_json(cli->m), render_list);
    return OTAP_OK;
}

/* ---- check ------------------------------------------------------------ */

/* The span of ports to look at: the range, or the blocks' hull. */
static void registry_span(const struct manifest *m, int *lo, int *hi)
{
    if (m->ports.has_range) {
        *lo = m->ports.lo;
        *hi = m->ports.hi;
        return;
    }
    *lo = 65536;
    *hi = 0;
    for (size_t i = 0; i < m->ports.nblocks; i++) {
        if (m->ports.blocks[i].lo < *lo)
            *lo = m->ports.blocks[i].lo;
        if (m->ports.blocks[i].hi > *hi)
            *hi = m->ports.blocks[i].hi;
    }
}

static json_t *holder_json(const struct port_listener *l)
{
    json_t *o = json_pack("{s:s, s:s}", "address", l->address, "family", l->ipv6 ? "ipv6" : "ipv4");
    json_object_set_new(o, "pid", l->pid ? json_integer(l->pid) : json_null());
    json_object_set_new(o, "command", l->command ? json_string(l->command) : json_null());
    return o;
}

static const char *service_on(const struct manifest *m, int port)
{
    for (size_t i = 0; i < m->nservices; i++)
        if (m->services[i].port == port)
            return m->services[i].name;
    return NULL;
}

static void render_check(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i, j;
    json_t *x, *h;
    cli_render_diags(cli, json_object_get(doc, "diagnostics"), out);
    fprintf(out, "%-6s %-12s %-8s %s\n", "PORT", "SERVICE", "STATE", "HELD BY");
    json_array_foreach(json_object_get(doc, "ports"), i, x)
    {
        const char *svc = json_string_value(json_object_get(x, "service"));
        json_t *holders = json_object_get(x, "holders");
        fprintf(out, "%-6d %-12s ", (int)json_integer_value(json_object_get(x, "port")),
                svc ? svc : "-");
        if (!json_array_size(holders)) {
            fprintf(out, "%sfree%s\n", cli_green(cli), cli_reset(cli));
            continue;
        }
        fprintf(out, "%s%-8s%s ", cli_yellow(cli), "in use", cli_reset(cli));
        json_array_foreach(holders, j, h)
        {
            json_t *pid = json_object_get(h, "pid");
            const char *cmd = json_string_value(json_object_get(h, "command"));
            if (j)
                fprintf(out, "%-6s %-12s %-8s ", "", "", "");
            if (json_is_integer(pid))
                fprintf(out, "pid %d (%s) on %s\n", (int)json_integer_value(pid), cmd ? cmd : "?",
                        json_string_value(json_object_get(h, "address")));
            else
                fprintf(out, "a process otap cannot see, on %s\n",
                        json_string_value(json_object_get(h, "address")));
        }
    }
    int n = (int)json_integer_value(json_object_get(doc, "errors"));
    if (n)
        fprintf(out, "%d registry problem%s\n", n, n == 1 ? "" : "s");
    int busy = (int)json_integer_value(json_object_get(doc, "service_ports_in_use"));
    if (json_is_true(json_object_get(doc, "require_free")) && busy)
        fprintf(out, "%d service port%s in use\n", busy, busy == 1 ? "" : "s");
}

static int verb_check(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"require-free", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    bool require_free = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'f')
            return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
        require_free = true;
    }
    if (optind < argc)
        return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);

    const struct manifest *m = cli->m;
    struct diag_list dl;
    diag_list_init(&dl, cli->warnings.file ? cli->warnings.file : m->path);
    ports_check_registry(m, &dl);
    diag_sort(&dl);

    int lo, hi;
    registry_span(m, &lo, &hi);
    struct port_listeners ls = {0};
    struct otap_err err = OTAP_ERR_INIT;
    if (lo <= hi && ports_listeners(lo, hi, &ls, &err) < 0) {
        diag_list_release(&dl);
        int rc = cli_error(cli, err.code, "%s", err.msg);
        otap_err_release(&err);
        return rc;
    }

    /* every service port, then every other registry port that is in use */
    json_t *rows = json_array();
    int busy = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int port = lo; port <= hi; port++) {
            const char *svc = service_on(m, port);
            json_t *holders = json_array();
            for (size_t i = 0; i < ls.n; i++)
                if (ls.items[i].port == port)
                    json_array_append_new(holders, holder_json(&ls.items[i]));
            bool show = pass == 0 ? svc != NULL : !svc && json_array_size(holders);
            if (!show) {
                json_decref(holders);
                continue;
            }
            busy += svc && json_array_size(holders);
            json_array_append_new(rows, json_pack("{s:i, s:o, s:o}", "port", port, "service",
                                                  svc ? json_string(svc) : json_null(), "holders",
                                                  holders));
        }
    }
    size_t errors = diag_count(&dl, DIAG_ERROR);
    bool ok = !errors && !(require_free && busy);
    json_t *doc = json_pack("{s:b, s:i, s:o, s:o, s:b, s:i}", "ok", ok, "errors", (int)errors,
                            "diagnostics", cli_diags_json(&dl), "ports", rows, "require_free",
                            require_free, "service_ports_in_use", busy);
    diag_list_release(&dl);
    ports_listeners_release(&ls);
    cli_emit(cli, doc, render_check);
    return ok ? OTAP_OK : OTAP_EFOUND;
}

/* ---- free ------------------------------------------------------------- */

static void render_free(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *x;
    bool dry = json_is_true(json_object_get(doc, "dry_run"));
    json_t *stops = json_object_get(doc, "processes");
    if (!json_array_size(stops) && !cli->quiet)
        fprintf(out, "no process holds a registry port%s\n",
                json_array_size(json_object_get(doc, "requested")) ? " of those named" : "");
    json_array_foreach(stops, i, x)
    {
        const char *cmd = json_string_value(json_object_get(x, "command"));
        const char *result = json_string_value(json_object_get(x, "result"));
        const char *why = json_string_value(json_object_get(x, "reason"));
        fprintf(out, "%s pid %d (%s) holding port", dry ? "would stop" : result,
                (int)json_integer_value(json_object_get(x, "pid")), cmd ? cmd : "?");
        size_t j;
        json_t *port;
        json_array_foreach(json_object_get(x, "ports"), j, port)
            fprintf(out, "%s %d", j ? "," : "", (int)json_integer_value(port));
        fprintf(out, "%s%s\n", why ? ": " : "", why ? why : "");
    }
}

static int verb_free(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'n'},
        {"grace", required_argument, NULL, 'g'},
        {NULL, 0, NULL, 0},
    };
    bool dry = false;
    long long grace_s = 5;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "n", opts, NULL)) != -1) {
        if (c == 'n') {
            dry = true;
        } else if (c == 'g') {
            if (num_parse_duration(optarg, &grace_s) < 0 || grace_s > 600)
                return cli_usage_error(cli, "--grace wants a duration up to 10m, not '%s'", optarg);
        } else {
            return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
        }
    }
    const struct manifest *m = cli->m;
    int nreq = argc - optind;
    int *req = xcalloc((size_t)nreq + 1, sizeof(int));
    json_t *outside = json_array();
    for (int i = 0; i < nreq; i++) {
        long long p;
        if (num_parse_ll(argv[optind + i], &p) < 0 || p < 1 || p > 65535) {
            json_decref(outside);
            free(req);
            return cli_usage_error(cli, "'%s' is not a port number", argv[optind + i]);
        }
        req[i] = (int)p;
        if (!ports_in_registry(m, req[i]))
            json_array_append_new(outside, json_integer(p));
    }
    if (json_array_size(outside)) {
        char *list = json_dumps(outside, JSON_COMPACT);
        int rc =
            cli_error(cli, OTAP_EREFUSED,
                      "refusing to free ports outside the registry: %s; nothing was stopped", list);
        free(list);
        json_decref(outside);
        free(req);
        return rc;
    }
    json_decref(outside);

    int lo, hi;
    registry_span(m, &lo, &hi);
    struct port_listeners ls = {0};
    struct otap_err err = OTAP_ERR_INIT;
    if (lo <= hi && ports_listeners(lo, hi, &ls, &err) < 0) {
        int rc = cli_error(cli, err.code, "%s", err.msg);
        otap_err_release(&err);
        free(req);
        return rc;
    }

    /* one entry per process, with every port it holds */
    json_t *procs = json_array();
    json_t *requested = json_array();
    for (int i = 0; i < nreq; i++)
        json_array_append_new(requested, json_integer(req[i]));
    int worst = OTAP_OK;
    for (size_t i = 0; i < ls.n; i++) {
        const struct port_listener *l = &ls.items[i];
        bool wanted = nreq == 0;
        for (int r = 0; r < nreq; r++)
            wanted |= req[r] == l->port;
        if (!wanted)
            continue;
        json_t *found = NULL;
        size_t k;
        json_t *p;
        json_array_foreach(procs, k, p)
        {
            if (l->pid && json_integer_value(json_object_get(p, "pid")) == l->pid)
                found = p;
        }
        if (!found) {
            found = json_pack("{s:i, s:o, s:[]}", "pid", (int)l->pid, "command",
                              l->command ? json_string(l->command) : json_null(), "ports");
            if (!l->pid) {
                json_object_set_new(found, "result", json_string("failed"));
                json_object_set_new(found, "reason",
                                    json_string("no process otap can see holds it"));
                worst = OTAP_EEXTERNAL;
            }
            json_array_append_new(procs, found);
        }
        json_t *held = json_object_get(found, "ports");
        bool dup = false;
        json_array_foreach(held, k, p) dup |= json_integer_value(p) == l->port;
        if (!dup)
            json_array_append_new(held, json_integer(l->port));
    }
    free(req);
    ports_listeners_release(&ls);

    size_t k;
    json_t *p;
    json_array_foreach(procs, k, p)
    {
        pid_t pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
        if (!pid || json_object_get(p, "result"))
            continue;
        if (dry) {
            json_object_set_new(p, "result", json_string("would stop"));
            continue;
        }
        int e = 0;
        enum ports_stop_result r = ports_stop(pid, (int)grace_s * 1000, &e);
        json_object_set_new(p, "result", json_string(ports_stop_result_name(r)));
        if (r == PORTS_STOP_REFUSED) {
            json_object_set_new(p, "reason", json_string("otap never stops pid 1 or itself"));
            if (worst == OTAP_OK)
                worst = OTAP_EREFUSED;
        } else if (r == PORTS_STOP_FAILED) {
            json_object_set_new(p, "reason", json_string(strerror(e)));
            worst = OTAP_EEXTERNAL;
        }
    }
    json_t *doc = json_pack("{s:b, s:b, s:o, s:o}", "ok", worst == OTAP_OK, "dry_run", dry,
                            "requested", requested, "processes", procs);
    cli_emit(cli, doc, render_free);
    return worst;
}

/* ---- dispatch --------------------------------------------------------- */

static const struct verb verbs[] = {
    {"check", "the registry's rules, and who holds each registry port", verb_check},
    {"free", "stop the processes holding registry ports", verb_free},
    {"list", "the registry as a table", verb_list},
    {NULL, NULL, NULL},
};

static int run(struct cli *cli, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(cli, "'otap ports' needs a verb: list, check or free");
    for (const struct verb *v = verbs; v->name; v++)
        if (!strcmp(v->name, argv[1]))
            return v->run(cli, argc - 1, argv + 1);
    return cli_usage_error(cli, "'%s' is not a verb of 'otap ports' (list, check, free)", argv[1]);
}

const struct cmd cmd_ports = {
    .name = "ports",
    .summary = "list and check the port registry, free registry ports",
    .usage = "usage: otap ports list [--json]\n"
             "       otap ports check [--require-free] [--json]\n"
             "       otap ports free [--dry-run] [--grace DURATION] [PORT...] [--json]\n"
             "\n"
             "list   the registry: allowed range, blocks and the services in each\n"
             "check  the registry's rules, and for every service port and every other\n"
             "       registry port in use, which process listens on it (TCP, IPv4 and IPv6)\n"
             "       --require-free  also fail when a service port is already in use\n"
             "free   stop the processes listening on the named registry ports (all registry\n"
             "       ports when none is named): SIGTERM, then SIGKILL after the grace period\n"
             "       (default 5s). Never a port outside the registry, never pid 1.\n"
             "\n"
             "exit: 0 ok, 1 registry problems (or a service port in use with --require-free),\n"
             "2 usage, 4 a port outside the registry was named, 5 a process could not be "
             "stopped\n",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run,
};

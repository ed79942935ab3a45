/*
 * otap ports list|check|free: the seeds' ports:list, ports:check and
 * clean:ports scripts, driven by the manifest's registry.
 *
 * 'free' only ever touches ports inside the registry and never pid 1 or
 * otap itself: asked for a port outside it, it refuses before stopping
 * anything, so a typo cannot kill an unrelated server.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/err.h"
#include "base/num.h"
#include "host/ports.h"
#include "base/xalloc.h"
#include "base/banned.h"

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

static int verb_list(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    cli_emit(cli, registry_json(cli->m), render_list);
    return OTAP_OK;
}

/* ---- check ------------------------------------------------------------ */

/* The span of ports to look at: the range, or the blocks' hull. */
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

static int verb_check(struct cli *cli, const struct cli_args *args)
{
    bool require_free = cli_flag(args, "require-free");
    int orc = cli_operands_at_most(cli, args, 0);
    if (orc)
        return orc;

    const struct manifest *m = cli->m;
    struct diag_list dl;
    diag_list_init(&dl, cli->warnings.file ? cli->warnings.file : m->path);
    ports_check_registry(m, &dl);
    diag_sort(&dl);

    int lo, hi;
    ports_registry_span(m, &lo, &hi);
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

static int verb_free(struct cli *cli, const struct cli_args *args)
{
    bool dry = cli_flag(args, "dry-run");
    long long grace_s = 5;
    const char *grace = cli_opt(args, "grace");
    if (grace && (num_parse_duration(grace, &grace_s) < 0 || grace_s > 600))
        return cli_usage_error(cli, "--grace wants a duration up to 10m, not '%s'", grace);
    size_t nreq = (size_t)args->argc - 1;
    int *req = xcalloc(nreq + 1, sizeof(int));
    for (size_t i = 0; i < nreq; i++) {
        long long p;
        if (num_parse_ll(args->argv[1 + i], &p) < 0 || p < 1 || p > 65535) {
            free(req);
            return cli_usage_error(cli, "'%s' is not a port number", args->argv[1 + i]);
        }
        req[i] = (int)p;
    }
    struct ports_free_plan plan;
    struct otap_err err = OTAP_ERR_INIT;
    int rc = ports_free_plan(cli->m, req, nreq, &plan, &err);
    if (rc < 0) {
        rc = cli_error(cli, rc, "%s", err.msg);
        otap_err_release(&err);
        free(req);
        return rc;
    }
    int worst = ports_free_run(&plan, dry, (int)grace_s * 1000);
    json_t *requested = json_array();
    for (size_t i = 0; i < nreq; i++)
        json_array_append_new(requested, json_integer(req[i]));
    free(req);
    json_t *procs = json_array();
    for (size_t i = 0; i < plan.n; i++) {
        const struct ports_free_item *it = &plan.items[i];
        json_t *ports = json_array();
        for (size_t k = 0; k < it->nports; k++)
            json_array_append_new(ports, json_integer(it->ports[k]));
        json_t *o = json_pack("{s:i, s:o, s:o}", "pid", (int)it->pid, "command",
                              it->command ? json_string(it->command) : json_null(), "ports", ports);
        if (it->result)
            json_object_set_new(o, "result", json_string(it->result));
        if (it->reason)
            json_object_set_new(o, "reason", json_string(it->reason));
        json_array_append_new(procs, o);
    }
    ports_free_plan_release(&plan);
    json_t *doc = json_pack("{s:b, s:b, s:o, s:o}", "ok", worst == OTAP_OK, "dry_run", dry,
                            "requested", requested, "processes", procs);
    cli_emit(cli, doc, render_free);
    return worst;
}

/* ---- dispatch --------------------------------------------------------- */

static const struct cmd verbs[] = {
    {
        .name = "list",
        .summary = "the registry: allowed range, blocks and the services in each",
        .run = verb_list,
    },
    {
        .name = "check",
        .summary = "the registry's rules, and who holds each registry port",
        .opts =
            (const struct cli_opt[]){
                {"require-free", 0, NULL, "also fail when a service port is already in use"},
                {0},
            },
        .about = "For every service port and every other registry port in use: which\n"
                 "process listens on it (TCP, IPv4 and IPv6).\n",
        .run = verb_check,
    },
    {
        .name = "free",
        .summary = "stop the processes holding registry ports",
        .synopsis = "[--dry-run] [--grace DURATION] [PORT...]",
        .opts =
            (const struct cli_opt[]){
                {"dry-run", 'n', NULL, "say what would be stopped, stop nothing"},
                {"grace", 0, "DURATION", "time between SIGTERM and SIGKILL (default 5s)"},
                {0},
            },
        .about = "Stops the processes listening on the named registry ports (all registry\n"
                 "ports when none is named): SIGTERM, then SIGKILL after the grace period.\n"
                 "Never a port outside the registry, never pid 1, never otap itself.\n",
        .run = verb_free,
    },
    {0},
};

const struct cmd cmd_ports = {
    .name = "ports",
    .summary = "list and check the port registry, free registry ports",
    .exits = "0 ok, 1 registry problems (or a service port in use with --require-free),\n"
             "      2 usage, 4 a port outside the registry was named, 5 a process could\n"
             "      not be stopped",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};

/*
 * otap serve: the truth over HTTP. Its own health contract, the
 * state store's API (serve_api.c: environments and what is live, builds,
 * gates, sign-offs, deployments, the ledger, and the writes that promote),
 * Prometheus metrics, all from one routing table.
 *
 *   otap serve [--listen HOST:PORT] [--env ENV] [--threads N] ...
 *   otap serve token add NAME --role viewer|deployer|admin [--env ENV]
 *   otap serve token list | remove NAME
 *
 * Tokens live hashed in .otap/tokens (0600); a new token is printed once.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "base/fileio.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "base/num.h"
#include "serve.h"
#include "server/tokens.h"
#include "version.h"
#include "base/xalloc.h"
#include "base/banned.h"

static char *tokens_path_for(const struct cli *cli, const char *given)
{
    return given ? xstrdup(given) : xasprintf("%s/.otap/tokens", cli->m->dir);
}

/* ---- handlers ----------------------------------------------------------- */

static void h_live(const struct http_request *rq, struct http_response *rs)
{
    (void)rq;
    rs->json = json_pack("{s:s}", "status", "ok");
}

static void h_health(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    char now[40];
    http_time_now(now);
    rs->json = json_pack("{s:s, s:s, s:s, s:s}", "status", "healthy", "environment", app->env->name,
                         "version", OTAP_VERSION, "timestamp", now);
}

/* Ready when every backend the server depends on answers: the tokens file and the state store. */
static void h_ready(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    char now[40];
    http_time_now(now);
    const char *tokens = "ok";
    if (access(app->tokens_path, R_OK) < 0 && errno != ENOENT)
        tokens = "unreadable";
    char *store = api_store_check(app);
    bool ready = !strcmp(tokens, "ok") && !strcmp(store, "ok");
    rs->status = ready ? 200 : 503;
    rs->json =
        json_pack("{s:s, s:{s:s, s:s, s:s}, s:s}", "status", ready ? "ready" : "degraded", "checks",
                  "manifest", "ok", "tokens", tokens, "state_store", store, "timestamp", now);
    free(store);
}

static void h_metrics(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    rs->text = metrics_render(app->metrics);
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void h_whoami(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    rs->json = json_pack("{s:b, s:s, s:s, s:s?, s:s?}", "ok", 1, "name", rq->actor, "role",
                         role_name(rq->role), "env", rq->scope, "project", app->m->project);
}

static void h_tokens(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    json_t *a = json_array();
    for (size_t i = 0; i < app->tokens->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s?}", "name", app->tokens->items[i].name,
                                           "role", role_name(app->tokens->items[i].role), "env",
                                           app->tokens->items[i].env));
    rs->json = json_pack("{s:b, s:o}", "ok", 1, "tokens", a);
}

/* Every endpoint: method, path, the least role, the handler, what it answers. */
static const struct http_route routes[] = {
    {"GET", "/", ROLE_NONE, web_page, "the dashboard (the page; its data needs a token)"},
    {"GET", "/app.js", ROLE_NONE, web_page, "the dashboard's script"},
    {"GET", "/app.css", ROLE_NONE, web_page, "the dashboard's style"},
    {"GET", "/favicon.svg", ROLE_NONE, web_page, "the dashboard's icon"},
    {"GET", "/health", ROLE_NONE, h_live, "liveness"},
    {"GET", "/api/v2/health", ROLE_NONE, h_health, "status, environment, version, timestamp"},
    {"GET", "/api/v2/ready", ROLE_NONE, h_ready, "200 when the state store answers"},
    {"GET", "/metrics", ROLE_VIEWER, h_metrics, "Prometheus text format"},
    {"GET", "/api/v2/environments", ROLE_VIEWER, api_environments,
     "the environments and what is live in each"},
    {"GET", "/api/v2/environments/{name}", ROLE_VIEWER, api_environments, "one environment"},
    {"GET", "/api/v2/environments/{name}/health", ROLE_VIEWER, api_env_health,
     "liveness, health and readiness of its services, probed now"},
    {"GET", "/api/v2/check", ROLE_VIEWER, api_check,
     "what promoting ?artifact= to ?env= needs, judged now (nothing changes)"},
    {"GET", "/api/v2/events", ROLE_VIEWER, api_events,
     "the ledger as Server-Sent Events; ids are sequence numbers (Last-Event-ID resumes)"},
    {"GET", "/api/v2/builds", ROLE_VIEWER, api_builds, "the registered builds"},
    {"GET", "/api/v2/gates", ROLE_VIEWER, api_gates, "gate results"},
    {"GET", "/api/v2/signoffs", ROLE_VIEWER, api_signoffs, "sign-offs"},
    {"GET", "/api/v2/deployments", ROLE_VIEWER, api_deployments, "promotions and rollbacks"},
    {"GET", "/api/v2/ledger", ROLE_VIEWER, api_ledger, "ledger entries, paged (after, limit)"},
    {"GET", "/api/v2/whoami", ROLE_VIEWER, h_whoami, "the caller's token name and role"},
    /* protected environments: api_promote and api_rollback ask for admin themselves */
    {"POST", "/api/v2/gates", ROLE_DEPLOYER, api_record_gate, "record a gate result"},
    {"POST", "/api/v2/signoffs", ROLE_DEPLOYER, api_record_signoff, "record a sign-off"},
    {"POST", "/api/v2/promotions", ROLE_DEPLOYER, api_promote,
     "promote a build; a protected environment needs admin"},
    {"POST", "/api/v2/rollbacks", ROLE_DEPLOYER, api_rollback,
     "roll back; a protected environment needs admin"},
    {"GET", "/api/v2/tokens", ROLE_ADMIN, h_tokens, "token names and roles"},
    {"GET", "/api/v2/flags", ROLE_VIEWER, api_flags_list,
     "each flag and its state per environment (the token's environment when scoped)"},
    {"POST", "/api/v2/flags/{key}", ROLE_DEPLOYER, api_flag_change,
     "enable, disable, roll out or set rules; a protected environment needs admin"},
    {"POST", "/ofrep/v1/evaluate/flags/{key}", ROLE_VIEWER, api_ofrep_flag,
     "OFREP: one flag for a context, in the environment served"},
    {"POST", "/ofrep/v1/evaluate/flags", ROLE_VIEWER, api_ofrep_bulk,
     "OFREP: every flag for a context, with an ETag (If-None-Match: 304)"},
};

/* ---- serve -------------------------------------------------------------- */

static int parse_listen(const char *s, char **host, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return -1;
    long long p;
    if (num_parse_ll(colon + 1, &p) < 0 || p < 0 || p > 65535)
        return -1;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (!hl)
        return -1;
    *host = xstrndup(h, hl);
    *port = (int)p;
    return 0;
}

static void log_event(const char *event, const char *key, const char *value)
{
    http_log_line(stderr, json_pack("{s:s, s:s}", "event", event, key, value));
}

static int run_server(struct cli *cli, const struct cli_args *args)
{
    const char *listen = cli_opt(args, "listen"), *env_name = cli_opt(args, "env"),
               *tokens_arg = cli_opt(args, "tokens");
    long long threads = 0, max_body = 1 << 20, idle = 10, conns = 1024, grace = 10;
    bool anonymous = cli_flag(args, "allow-anonymous-read");
    const char *v;
    if ((v = cli_opt(args, "threads")) &&
        (num_parse_ll(v, &threads) < 0 || threads < 1 || threads > 256))
        return cli_usage_error(cli, "--threads '%s' is not a number 1-256", v);
    if ((v = cli_opt(args, "max-body")) &&
        (num_parse_ll(v, &max_body) < 0 || max_body < 0 || max_body > (1LL << 30)))
        return cli_usage_error(cli, "--max-body '%s' is not a byte count", v);
    if ((v = cli_opt(args, "max-connections")) &&
        (num_parse_ll(v, &conns) < 0 || conns < 1 || conns > 100000))
        return cli_usage_error(cli, "--max-connections '%s' is not a number", v);
    const char *names[] = {"idle-timeout", "grace"};
    long long *slots[] = {&idle, &grace};
    for (size_t i = 0; i < 2; i++)
        if ((v = cli_opt(args, names[i])) &&
            (num_parse_duration(v, slots[i]) < 0 || *slots[i] < 1 || *slots[i] > 3600))
            return cli_usage_error(cli, "--%s '%s' is not a duration (e.g. 10s)", names[i], v);
    int orc = cli_operands_at_most(cli, args, 0);
    if (orc)
        return orc;
    const struct manifest *m = cli->m;
    if (!env_name)
        env_name = getenv("ENVIRONMENT");
    const struct manifest_env *env = env_name ? manifest_env_find(m, env_name) : &m->envs[0];
    if (!env)
        return cli_usage_error(cli, "no environment '%s' in the manifest", env_name);

    char *host = NULL;
    int port = 0;
    if (listen) {
        if (parse_listen(listen, &host, &port) < 0)
            return cli_usage_error(cli, "--listen '%s' is not HOST:PORT", listen);
    } else {
        const struct manifest_service *svc = manifest_service_find(m, "otap");
        if (!svc || !svc->port)
            return cli_error(cli, OTAP_EINVALID,
                             "otap serve listens on the registry port of the service 'otap': "
                             "add services: { otap: { port: ... } } or give --listen");
        host = xstrdup("127.0.0.1");
        port = svc->port;
    }
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? n : 2;
    }

    char *tpath = tokens_path_for(cli, tokens_arg);
    struct tokens tokens;
    struct diag_list dl;
    diag_list_init(&dl, tpath);
    struct otap_err err = OTAP_ERR_INIT;
    int rc = tokens_load(&tokens, tpath, &dl, &err);
    if (rc < 0 || dl.n) {
        if (dl.n)
            cli_print_diags(cli, &dl, stderr);
        rc = rc < 0 ? cli_error(cli, rc, "%s", err.msg)
                    : cli_error(cli, OTAP_EINVALID, "the tokens file '%s' is invalid", tpath);
        otap_err_release(&err);
        diag_list_release(&dl);
        tokens_release(&tokens);
        free(tpath);
        free(host);
        return rc;
    }
    diag_list_release(&dl);

    struct metrics *metrics = metrics_new();
    char *commit = metrics_escape(OTAP_GIT_COMMIT);
    char *labels = xasprintf("version=\"%s\",commit=\"%s\"", OTAP_VERSION, commit);
    metrics_gauge_set(metrics, "otap_build_info", "The otap build serving", labels, 1);
    free(labels);
    free(commit);
    metrics_gauge_add(metrics, "otap_http_connections_open", "Open client connections", NULL, 0);
    metrics_gauge_add(metrics, "otap_http_requests_in_flight", "Requests being served now", NULL,
                      0);
    struct serve_app app = {m,           cli_manifest_name(cli), env, &tokens, tpath, metrics, 0,
                            &cli->redact};
    app.ledger_verified = api_verify_ledger(&app);
    metrics_add_collector(metrics, api_collect_metrics, &app);

    /* the server's threads inherit this mask; only sigwait() below sees the signals */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct http_server_opts so = {
        .host = host,
        .port = port,
        .threads = (unsigned)threads,
        .max_body = (size_t)max_body,
        .max_header = 16 * 1024,
        .idle_timeout = (unsigned)idle,
        .max_conns = (unsigned)conns,
        .anonymous_read = anonymous,
        .routes = routes,
        .nroutes = sizeof(routes) / sizeof(routes[0]),
        .app = &app,
        .tokens = &tokens,
        .metrics = metrics,
        .log = stderr,
        .redact = &cli->redact,
    };
    struct http_server *srv = NULL;
    rc = http_server_start(&srv, &so, &err);
    if (rc < 0) {
        rc = cli_error(cli, rc, "%s", err.msg);
        otap_err_release(&err);
    } else {
        char *addr = strchr(host, ':') ? xasprintf("http://[%s]:%d", host, http_server_port(srv))
                                       : xasprintf("http://%s:%d", host, http_server_port(srv));
        log_event("listening", "address", addr);
        log_event("ledger", "chain",
                  app.ledger_verified == 1   ? "verified"
                  : app.ledger_verified == 0 ? "broken: run 'otap ledger verify'"
                                             : "unreadable");
        free(addr);
        serve_watch_start(&app, srv);
        int sig = 0;
        sigwait(&set, &sig);
        log_event("stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        serve_watch_stop();
        http_server_stop(srv, (unsigned)grace * 1000);
        log_event("stopped", "environment", env->name);
    }
    serve_flags_stop();
    metrics_free(metrics);
    tokens_release(&tokens);
    free(tpath);
    free(host);
    return rc;
}

/* ---- tokens ------------------------------------------------------------- */

/* The tokens file, loaded; reports its own errors. */
static int tokens_open(struct cli *cli, const struct cli_args *args, struct tokens *t, char **path)
{
    *path = tokens_path_for(cli, cli_opt(args, "tokens"));
    struct diag_list dl;
    diag_list_init(&dl, *path);
    struct otap_err err = OTAP_ERR_INIT;
    int rc = tokens_load(t, *path, &dl, &err);
    if (rc < 0 || dl.n) {
        cli_print_diags(cli, &dl, stderr);
        rc = rc < 0 ? cli_error(cli, rc, "%s", err.msg)
                    : cli_error(cli, OTAP_EINVALID, "the tokens file '%s' is invalid", *path);
        if (rc >= 0)
            tokens_release(t);
    }
    otap_err_release(&err);
    diag_list_release(&dl);
    if (rc < 0) {
        free(*path);
        *path = NULL;
    }
    return rc;
}

static void render_token_list(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "tokens"), i, t)
    {
        const char *env = json_string_value(json_object_get(t, "env"));
        fprintf(out, "%-24s %-8s %s%s\n", json_string_value(json_object_get(t, "name")),
                json_string_value(json_object_get(t, "role")), env ? "env " : "any environment",
                env ? env : "");
    }
}

static int run_token_list(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    struct tokens t;
    char *path;
    if (rc || (rc = tokens_open(cli, args, &t, &path)) < 0)
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < t.n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s?}", "name", t.items[i].name, "role",
                                           role_name(t.items[i].role), "env", t.items[i].env));
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "tokens", a), render_token_list);
    tokens_release(&t);
    free(path);
    return 0;
}

static void render_token_add(struct cli *cli, json_t *doc, FILE *out)
{
    /* the token alone on stdout, so that $(otap serve token add ...) captures it */
    fprintf(out, "%s\n", json_string_value(json_object_get(doc, "token")));
    if (!cli->quiet)
        fprintf(stderr, "token '%s' (%s) saved hashed in %s; it is shown only now\n",
                json_string_value(json_object_get(doc, "name")),
                json_string_value(json_object_get(doc, "role")),
                json_string_value(json_object_get(doc, "file")));
}

static int run_token_add(struct cli *cli, const struct cli_args *args)
{
    const char *role_arg = cli_opt(args, "role");
    if (args->argc != 2 || !role_arg)
        return cli_usage_error(cli, "give the token's NAME and --role viewer|deployer|admin");
    const char *name = args->argv[1];
    enum role r = role_parse(role_arg);
    if (r == ROLE_NONE)
        return cli_usage_error(cli, "--role '%s' is not viewer, deployer or admin", role_arg);
    const char *scope = cli_opt(args, "env");
    if (scope && !manifest_env_find(cli->m, scope))
        return cli_usage_error(cli, "--env: no environment '%s' in the manifest", scope);
    struct tokens t;
    char *path;
    int rc = tokens_open(cli, args, &t, &path);
    if (rc < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    char *token = NULL;
    char *dir = xasprintf("%s/.otap", cli->m->dir);
    if (!cli_opt(args, "tokens") && (rc = fileio_mkdirs(dir, ".otap", &err)) < 0)
        rc = cli_error(cli, err.code, "%s", err.msg);
    else if ((rc = tokens_add(&t, name, r, scope, &token, &err)) < 0 ||
             (rc = tokens_save(&t, path, &err)) < 0)
        rc = cli_fail(cli, rc, &err);
    else
        /* the only time the token exists outside its holder's hands */
        cli_emit(cli,
                 json_pack("{s:b, s:s, s:s, s:s?, s:s, s:s}", "ok", 1, "name", name, "role",
                           role_name(r), "env", scope, "token", token, "file", path),
                 render_token_add);
    if (token) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
    free(dir);
    otap_err_release(&err);
    tokens_release(&t);
    free(path);
    return rc;
}

static void render_token_remove(struct cli *cli, json_t *doc, FILE *out)
{
    if (!cli->quiet)
        fprintf(out, "removed token '%s'\n", json_string_value(json_object_get(doc, "removed")));
}

static int run_token_remove(struct cli *cli, const struct cli_args *args)
{
    if (args->argc != 2)
        return cli_usage_error(cli, "give the NAME of the token to remove");
    const char *name = args->argv[1];
    struct tokens t;
    char *path;
    int rc = tokens_open(cli, args, &t, &path);
    if (rc < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    if (!tokens_remove(&t, name))
        rc = cli_error(cli, OTAP_EFOUND, "no token named '%s'", name);
    else if ((rc = tokens_save(&t, path, &err)) < 0)
        rc = cli_error(cli, rc, "%s", err.msg);
    else
        cli_emit(cli, json_pack("{s:b, s:s}", "ok", 1, "removed", name), render_token_remove);
    otap_err_release(&err);
    tokens_release(&t);
    free(path);
    return rc;
}

/* The endpoints, from the route table itself: help never lists a route that is gone. */
static void routes_help(FILE *out)
{
    static const char *const roles[] = {"anyone", "viewer", "deployer", "admin"};
    fputs("\nendpoints:\n", out);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct http_route *r = &routes[i];
        fprintf(out, "  %-4s %-30s %s (%s)\n", r->method, r->pattern, r->summary, roles[r->role]);
    }
}

#define TOKENS_OPT                                                                                 \
    {                                                                                              \
        "tokens", 0, "FILE", "the tokens file (default .otap/tokens)"                              \
    }

static const struct cmd token_verbs[] = {
    {
        .name = "add",
        .summary = "make a token; print it once",
        .synopsis = "NAME --role viewer|deployer|admin [--env ENV]",
        .opts =
            (const struct cli_opt[]){
                {"role", 0, "ROLE", "viewer, deployer or admin"},
                {"env", 'e', "ENV",
                 "scope it to one environment: flags are evaluated and changed only there"},
                TOKENS_OPT,
                {0},
            },
        .run = run_token_add,
    },
    {
        .name = "list",
        .summary = "token names and roles",
        .opts = (const struct cli_opt[]){TOKENS_OPT, {0}},
        .run = run_token_list,
    },
    {
        .name = "remove",
        .summary = "revoke a token",
        .synopsis = "NAME",
        .opts = (const struct cli_opt[]){TOKENS_OPT, {0}},
        .run = run_token_remove,
    },
    {0},
};

static const struct cmd verbs[] = {
    {
        .name = "token",
        .summary = "add, list and remove the tokens that may call the API",
        .verbs = token_verbs,
    },
    {0},
};

const struct cmd cmd_serve = {
    .name = "serve",
    .summary = "serve health, the environments and metrics over HTTP, with token roles",
    .synopsis = "[--listen HOST:PORT] [--env ENV] [--threads N] [--tokens FILE]\n"
                " [--allow-anonymous-read] [--max-body BYTES] [--idle-timeout 10s]\n"
                " [--max-connections N] [--grace 10s]",
    .opts =
        (const struct cli_opt[]){
            {"listen", 0, "HOST:PORT",
             "where to listen (default 127.0.0.1 and the port of 'otap')"},
            {"env", 'e', "ENV", "the environment this server answers for (default ENVIRONMENT)"},
            {"threads", 0, "N", "worker threads (default: one per core)"},
            TOKENS_OPT,
            {"allow-anonymous-read", 0, NULL, "viewer endpoints without a token"},
            {"max-body", 0, "BYTES", "larger bodies get 413 (default 1 MiB)"},
            {"idle-timeout", 0, "DURATION", "close a connection idle this long (default 10s)"},
            {"max-connections", 0, "N", "at most N connections at once (default 1024)"},
            {"grace", 0, "DURATION", "on SIGTERM, let requests finish this long (default 10s)"},
            {0},
        },
    .about = "Listens with an epoll thread pool. Requests carry 'Authorization: Bearer\n"
             "TOKEN'; no or a bad token is 401, too weak a role 403, both with a JSON\n"
             "error. Tokens are stored hashed (SHA-256), compared in constant time, never\n"
             "logged; 'token add' prints a new token once. Every request is logged as one\n"
             "JSON line on stderr with its request id (X-Request-Id, or a generated one,\n"
             "returned in the answer). Headers over 16 KiB are refused. SIGTERM stops\n"
             "accepting, lets requests in flight finish, then exits 0.\n",
    .more_help = routes_help,
    .exits = "0 stopped by SIGTERM or SIGINT; 2 usage; 3 invalid manifest or tokens file;\n"
             "      5 cannot listen",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
    .run = run_server,
};

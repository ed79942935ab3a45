/*
 * otap serve: the truth over HTTP. Its own health contract, the
 * state store's API (serve_api.c: environments and what is live, builds,
 * gates, sign-offs, deployments, the ledger, and the writes that promote),
 * Prometheus metrics, all from one routing table.
 *
 *   otap serve [--listen HOST:PORT] [--env ENV] [--threads N] ...
 *   otap serve token add NAME --role viewer|deployer|admin
 *   otap serve token list | remove NAME
 *
 * Tokens live hashed in .otap/tokens (0600); a new token is printed once.
 */
#include <errno.h>
#include <getopt.h>
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
    rs->json =
        json_pack("{s:b, s:s, s:s}", "ok", 1, "name", rq->actor, "role", role_name(rq->role));
}

static void h_tokens(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    json_t *a = json_array();
    for (size_t i = 0; i < app->tokens->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "name", app->tokens->items[i].name, "role",
                                           role_name(app->tokens->items[i].role)));
    rs->json = json_pack("{s:b, s:o}", "ok", 1, "tokens", a);
}

/* Every endpoint: method, path, the least role, the handler. */
static const struct http_route routes[] = {
    {"GET", "/health", ROLE_NONE, h_live},
    {"GET", "/api/v2/health", ROLE_NONE, h_health},
    {"GET", "/api/v2/ready", ROLE_NONE, h_ready},
    {"GET", "/metrics", ROLE_VIEWER, h_metrics},
    {"GET", "/api/v2/environments", ROLE_VIEWER, api_environments},
    {"GET", "/api/v2/environments/{name}", ROLE_VIEWER, api_environments},
    {"GET", "/api/v2/builds", ROLE_VIEWER, api_builds},
    {"GET", "/api/v2/gates", ROLE_VIEWER, api_gates},
    {"GET", "/api/v2/signoffs", ROLE_VIEWER, api_signoffs},
    {"GET", "/api/v2/deployments", ROLE_VIEWER, api_deployments},
    {"GET", "/api/v2/ledger", ROLE_VIEWER, api_ledger},
    {"GET", "/api/v2/whoami", ROLE_VIEWER, h_whoami},
    /* protected environments: api_promote and api_rollback ask for admin themselves */
    {"POST", "/api/v2/gates", ROLE_DEPLOYER, api_record_gate},
    {"POST", "/api/v2/signoffs", ROLE_DEPLOYER, api_record_signoff},
    {"POST", "/api/v2/promotions", ROLE_DEPLOYER, api_promote},
    {"POST", "/api/v2/rollbacks", ROLE_DEPLOYER, api_rollback},
    {"GET", "/api/v2/tokens", ROLE_ADMIN, h_tokens},
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

static int run_server(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"env", required_argument, NULL, 'e'},
        {"threads", required_argument, NULL, 't'},
        {"tokens", required_argument, NULL, 'k'},
        {"allow-anonymous-read", no_argument, NULL, 'a'},
        {"max-body", required_argument, NULL, 'b'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"max-connections", required_argument, NULL, 'c'},
        {"grace", required_argument, NULL, 'g'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = NULL, *env_name = NULL, *tokens_arg = NULL;
    long long threads = 0, max_body = 1 << 20, idle = 10, conns = 1024, grace = 10;
    bool anonymous = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'e':
            env_name = optarg;
            break;
        case 'k':
            tokens_arg = optarg;
            break;
        case 'a':
            anonymous = true;
            break;
        case 't':
            if (num_parse_ll(optarg, &threads) < 0 || threads < 1 || threads > 256)
                return cli_usage_error(cli, "--threads '%s' is not a number 1-256", optarg);
            break;
        case 'b':
            if (num_parse_ll(optarg, &max_body) < 0 || max_body < 0 || max_body > (1LL << 30))
                return cli_usage_error(cli, "--max-body '%s' is not a byte count", optarg);
            break;
        case 'c':
            if (num_parse_ll(optarg, &conns) < 0 || conns < 1 || conns > 100000)
                return cli_usage_error(cli, "--max-connections '%s' is not a number", optarg);
            break;
        case 'i':
        case 'g': {
            long long v;
            if (num_parse_duration(optarg, &v) < 0 || v < 1 || v > 3600)
                return cli_usage_error(cli, "--%s '%s' is not a duration (e.g. 10s)",
                                       c == 'i' ? "idle-timeout" : "grace", optarg);
            *(c == 'i' ? &idle : &grace) = v;
            break;
        }
        default:
            return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
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
    struct serve_app app = {m, cli_manifest_name(cli), env, &tokens, tpath, metrics, 0};
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
        int sig = 0;
        sigwait(&set, &sig);
        log_event("stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        http_server_stop(srv, (unsigned)grace * 1000);
        log_event("stopped", "environment", env->name);
    }
    metrics_free(metrics);
    tokens_release(&tokens);
    free(tpath);
    free(host);
    return rc;
}

/* ---- tokens ------------------------------------------------------------- */

static int run_token(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'},
        {"tokens", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    const char *role_arg = NULL, *tokens_arg = NULL;
    if (argc < 2)
        return cli_usage_error(cli, "'otap serve token' needs add, list or remove");
    const char *verb = argv[1];
    int c;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'r')
            role_arg = optarg;
        else if (c == 'k')
            tokens_arg = optarg;
        else
            return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
    }
    char *path = tokens_path_for(cli, tokens_arg);
    struct tokens t;
    struct diag_list dl;
    diag_list_init(&dl, path);
    struct otap_err err = OTAP_ERR_INIT;
    int rc = tokens_load(&t, path, &dl, &err);
    if (rc < 0 || dl.n) {
        cli_print_diags(cli, &dl, stderr);
        rc = rc < 0 ? cli_error(cli, rc, "%s", err.msg)
                    : cli_error(cli, OTAP_EINVALID, "the tokens file '%s' is invalid", path);
        goto out;
    }
    if (!strcmp(verb, "list")) {
        json_t *a = json_array();
        for (size_t i = 0; i < t.n; i++)
            json_array_append_new(a, json_pack("{s:s, s:s}", "name", t.items[i].name, "role",
                                               role_name(t.items[i].role)));
        if (!cli->json)
            for (size_t i = 0; i < t.n; i++)
                printf("%-24s %s\n", t.items[i].name, role_name(t.items[i].role));
        cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "tokens", a), NULL);
    } else if (!strcmp(verb, "add")) {
        if (optind + 1 != argc || !role_arg) {
            rc = cli_usage_error(cli,
                                 "usage: otap serve token add NAME --role viewer|deployer|admin");
            goto out;
        }
        enum role r = role_parse(role_arg);
        if (r == ROLE_NONE) {
            rc = cli_usage_error(cli, "--role '%s' is not viewer, deployer or admin", role_arg);
            goto out;
        }
        char *token = NULL;
        char *dir = xasprintf("%s/.otap", cli->m->dir);
        if (!tokens_arg && fileio_mkdirs(dir, ".otap", &err) < 0) {
            free(dir);
            rc = cli_error(cli, err.code, "%s", err.msg);
            goto out;
        }
        free(dir);
        if ((rc = tokens_add(&t, argv[optind], r, &token, &err)) < 0 ||
            (rc = tokens_save(&t, path, &err)) < 0) {
            if (token) {
                explicit_bzero(token, strlen(token));
                free(token);
            }
            rc = rc == OTAP_EUSAGE ? cli_usage_error(cli, "%s", err.msg)
                                   : cli_error(cli, rc, "%s", err.msg);
            goto out;
        }
        /* the only time the token exists outside its holder's hands */
        cli_emit(cli,
                 json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "name", argv[optind], "role",
                           role_name(r), "token", token),
                 NULL);
        if (!cli->json) {
            printf("%s\n", token);
            if (!cli->quiet)
                fprintf(stderr, "token '%s' (%s) saved hashed in %s; it is shown only now\n",
                        argv[optind], role_name(r), path);
        }
        explicit_bzero(token, strlen(token));
        free(token);
    } else if (!strcmp(verb, "remove")) {
        if (optind + 1 != argc) {
            rc = cli_usage_error(cli, "usage: otap serve token remove NAME");
            goto out;
        }
        if (!tokens_remove(&t, argv[optind])) {
            rc = cli_error(cli, OTAP_EFOUND, "no token named '%s'", argv[optind]);
            goto out;
        }
        if ((rc = tokens_save(&t, path, &err)) < 0) {
            rc = cli_error(cli, rc, "%s", err.msg);
            goto out;
        }
        cli_emit(cli, json_pack("{s:b, s:s}", "ok", 1, "removed", argv[optind]), NULL);
    } else {
        rc = cli_usage_error(cli, "'%s' is not add, list or remove", verb);
    }
out:
    otap_err_release(&err);
    diag_list_release(&dl);
    tokens_release(&t);
    free(path);
    return rc;
}

static int run(struct cli *cli, int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "token"))
        return run_token(cli, argc - 1, argv + 1);
    return run_server(cli, argc, argv);
}

const struct cmd cmd_serve = {
    .name = "serve",
    .summary = "serve health, the environments and metrics over HTTP, with token roles",
    .usage =
        "usage: otap serve [--listen HOST:PORT] [--env ENV] [--threads N] [--tokens FILE]\n"
        "                  [--allow-anonymous-read] [--max-body BYTES] [--idle-timeout 10s]\n"
        "                  [--max-connections N] [--grace 10s]\n"
        "       otap serve token add NAME --role viewer|deployer|admin\n"
        "       otap serve token list | remove NAME\n"
        "\n"
        "Listens on 127.0.0.1 at the registry port of the service 'otap' (or --listen)\n"
        "with an epoll thread pool. Endpoints:\n"
        "  GET  /health                      liveness (anyone)\n"
        "  GET  /api/v2/health               status, environment, version, timestamp (anyone)\n"
        "  GET  /api/v2/ready                200 when every backend answers (anyone)\n"
        "  GET  /metrics                     Prometheus text format (viewer)\n"
        "  GET  /api/v2/environments[/NAME]  the environments of the manifest (viewer)\n"
        "  GET  /api/v2/whoami               the caller's token name and role (viewer)\n"
        "  POST /api/v2/echo                 a JSON object, validated and echoed (deployer)\n"
        "  GET  /api/v2/tokens               token names and roles (admin)\n"
        "Requests carry 'Authorization: Bearer TOKEN'; no or a bad token is 401, too\n"
        "weak a role 403, both with a JSON error. --allow-anonymous-read opens viewer\n"
        "endpoints to callers without a token. Tokens are stored hashed (SHA-256) in\n"
        ".otap/tokens, compared in constant time, never logged; 'token add' prints a\n"
        "new token once. Every request is logged as one JSON line on stderr with its\n"
        "request id (X-Request-Id, or a generated one, returned in the answer). Bodies\n"
        "over --max-body (1 MiB) get 413; headers over 16 KiB are refused; a\n"
        "connection idle for --idle-timeout is closed. SIGTERM stops accepting, lets\n"
        "requests in flight finish (at most --grace), then exits 0.\n"
        "\n"
        "exit: 0 stopped by SIGTERM or SIGINT; 2 usage; 3 invalid manifest or tokens file;\n"
        "5 cannot listen\n",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run,
};

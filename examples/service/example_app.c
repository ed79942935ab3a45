/*
 * example-app: a small backend that implements the seeds' health contract
 * (seed 000 §5, seed 001 §3 and §6.1), so otap has a real service to
 * probe, deploy and promote in the demo and the tests.
 *
 *   GET /health         200 {"status":"ok"}                      liveness
 *   GET /api/v2/health  200 {status, environment, version, timestamp}
 *   GET /api/v2/ready   200 {status:"ready", database:"connected", timestamp}
 *                       503 {status:"degraded", database:"error: ...", timestamp}
 *
 * It reads its settings only by their canonical names (ENVIRONMENT,
 * DATABASE_URL or POSTGRES_USER/PASSWORD/DB/HOST/PORT, PORT) and refuses
 * to start without a valid ENVIRONMENT: fail fast, not half-configured.
 * Readiness runs SELECT 1 on a fresh connection each time, so it reports
 * the database as it is now, not as it was at start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#ifndef EXAMPLE_VERSION
#define EXAMPLE_VERSION "0.0.0"
#endif

struct app {
    const char *environment;
    const char *database_url; /* or NULL, then the POSTGRES_* parts */
};

static void iso_now(char *buf, size_t len)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

/* NULL when the database answers SELECT 1; otherwise a reason, caller frees. */
static char *database_problem(const struct app *app)
{
    PGconn *conn;
    if (app->database_url) {
        const char *keys[] = {"dbname", "connect_timeout", NULL};
        const char *vals[] = {app->database_url, "2", NULL};
        conn = PQconnectdbParams(keys, vals, 1);
    } else {
        const char *keys[] = {"user", "password",        "dbname", "host",
                              "port", "connect_timeout", NULL};
        const char *vals[] = {getenv("POSTGRES_USER"),
                              getenv("POSTGRES_PASSWORD"),
                              getenv("POSTGRES_DB"),
                              getenv("POSTGRES_HOST"),
                              getenv("POSTGRES_PORT"),
                              "2",
                              NULL};
        conn = PQconnectdbParams(keys, vals, 0);
    }
    char *problem = NULL;
    if (PQstatus(conn) != CONNECTION_OK) {
        problem = strdup(PQerrorMessage(conn));
    } else {
        PGresult *res = PQexec(conn, "SELECT 1");
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            problem = strdup(PQerrorMessage(conn));
        PQclear(res);
    }
    PQfinish(conn);
    if (problem) {
        /* one line, no trailing newline: it goes into a JSON field */
        char *nl = strchr(problem, '\n');
        if (nl)
            *nl = '\0';
    }
    return problem;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    const struct app *app = cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;
    char now[40];
    iso_now(now, sizeof(now));
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                     json_pack("{s:s}", "error", "only GET and HEAD are served"));
    if (!strcmp(url, "/health"))
        return reply(c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
    if (!strcmp(url, "/api/v2/health"))
        return reply(c, MHD_HTTP_OK,
                     json_pack("{s:s, s:s, s:s, s:s}", "status", "healthy", "environment",
                               app->environment, "version", EXAMPLE_VERSION, "timestamp", now));
    if (!strcmp(url, "/api/v2/ready")) {
        char *problem = database_problem(app);
        if (!problem)
            return reply(c, MHD_HTTP_OK,
                         json_pack("{s:s, s:s, s:s}", "status", "ready", "database", "connected",
                                   "timestamp", now));
        json_t *body = json_pack("{s:s, s:s+, s:s}", "status", "degraded", "database",
                                 "error: ", problem, "timestamp", now);
        free(problem);
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, body);
    }
    return reply(c, MHD_HTTP_NOT_FOUND, json_pack("{s:s, s:s}", "error", "not found", "path", url));
}

int main(void)
{
    static const char *const stages[] = {"development", "test", "staging", "production", NULL};
    struct app app = {getenv("ENVIRONMENT"), getenv("DATABASE_URL")};
    bool ok = false;
    for (int i = 0; app.environment && stages[i]; i++)
        ok |= !strcmp(app.environment, stages[i]);
    if (!ok) {
        fprintf(stderr, "example-app: ENVIRONMENT must be one of development, test, staging, "
                        "production; refusing to start\n");
        return 3;
    }
    if (app.database_url && !*app.database_url)
        app.database_url = NULL;

    const char *port_s = getenv("PORT") ? getenv("PORT") : "9000";
    char *end;
    long port = strtol(port_s, &end, 10);
    if (*end || port < 1 || port > 65535) {
        fprintf(stderr, "example-app: PORT must be 1-65535, not '%s'\n", port_s);
        return 3;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* the server's threads inherit this */

    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, handle, &app, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "example-app: cannot listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
        return 5;
    }
    fprintf(stderr, "example-app: %s listening on 127.0.0.1:%ld\n", app.environment, port);
    int sig;
    sigwait(&set, &sig);
    fprintf(stderr, "example-app: stopping on signal %d\n", sig);
    MHD_stop_daemon(d);
    return 0;
}

/*
 * otap up, down, ps, logs, restart: the local stack (src/lib/stack/).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "stack/stack.h"
#include "base/banned.h"

extern char **environ;

/* ---- up ------------------------------------------------------------------------ */

struct up_out {
    struct cli *cli;
    int width; /* the longest service name, for aligned prefixes */
};

/* A colour per service, so interleaved output stays readable; the name is always there too. */
static const char *colour_of(struct cli *cli, const char *name)
{
    static const char *const c[] = {"\033[36m", "\033[35m", "\033[33m",
                                    "\033[32m", "\033[34m", "\033[96m"};
    if (!cli->color)
        return "";
    unsigned h = 0;
    for (const char *p = name; *p; p++)
        h = h * 31 + (unsigned char)*p;
    return c[h % (sizeof c / sizeof *c)];
}

static void on_line(void *ctx, const char *service, const char *line, size_t len)
{
    struct up_out *o = ctx;
    fprintf(stdout, "%s%-*s |%s %.*s\n", colour_of(o->cli, service), o->width, service,
            cli_reset(o->cli), (int)len, line);
    fflush(stdout);
}

static void on_event(void *ctx, const char *service, const char *what)
{
    struct up_out *o = ctx;
    if (o->cli->quiet)
        return;
    fprintf(stderr, "%s%-*s |%s otap: %s\n", colour_of(o->cli, service), o->width, service,
            cli_reset(o->cli), what);
}

static int run_up(struct cli *cli, const struct cli_args *args)
{
    const char *env = cli_opt(args, "env");
    bool detach = cli_flag(args, "detach");
    struct up_out out = {cli, 4};
    for (size_t i = 0; i < cli->m->nservices; i++) {
        int w = (int)strlen(cli->m->services[i].name);
        out.width = w > out.width ? w : out.width;
    }
    char *exe = realpath("/proc/self/exe", NULL);
    struct stack_opts o = {.m = cli->m,
                           .manifest_name = cli_manifest_name(cli),
                           .env = env,
                           .only = args->argv + 1,
                           .nonly = (size_t)(args->argc - 1),
                           .detach = detach,
                           .process_env = environ,
                           .otap = exe,
                           .line = on_line,
                           .event = on_event,
                           .ctx = &out};
    struct strvec refusals = STRVEC_INIT;
    struct otap_err err = OTAP_ERR_INIT;
    int rc = stack_up(&o, &refusals, &err);
    free(exe);
    if (rc == OTAP_EREFUSED && refusals.n) {
        rc = cli_refused(cli, "start the stack (nothing was started)", refusals.items, refusals.n,
                         NULL);
    } else if (rc == OTAP_EFOUND) {
        for (size_t i = 0; i < refusals.n; i++)
            fprintf(stderr, "%serror:%s %s\n", cli_red(cli), cli_reset(cli), refusals.items[i]);
        fprintf(stderr, "the stack did not come up; what had started was stopped\n");
        if (cli->json)
            cli_emit(cli, json_pack("{s:b}", "ok", 0), NULL);
    } else if (rc < 0) {
        rc = cli_fail(cli, rc, &err);
    } else if (detach) {
        json_t *st = NULL;
        stack_status(cli->m, &st, &err);
        if (!cli->quiet && !cli->json)
            fprintf(stdout,
                    "the stack is up (supervisor pid %lld): 'otap ps', 'otap logs -f', "
                    "'otap down'\n",
                    st ? (long long)json_integer_value(json_object_get(st, "supervisor")) : 0LL);
        if (cli->json)
            cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "stack", st ? st : json_null()), NULL);
        else
            json_decref(st);
    }
    strvec_release(&refusals);
    otap_err_release(&err);
    return rc;
}

/* ---- down ----------------------------------------------------------------------- */

static int run_down(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    bool was_up = false;
    struct otap_err err = OTAP_ERR_INIT;
    rc = stack_down(cli->m, &was_up, &err);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    if (cli->json)
        cli_emit(cli, json_pack("{s:b, s:b}", "ok", 1, "was_up", was_up), NULL);
    else if (!cli->quiet)
        printf("%s\n", was_up ? "the stack is down" : "no stack was up");
    return 0;
}

/* ---- ps ------------------------------------------------------------------------- */

static void render_ps(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *st = json_object_get(doc, "stack");
    if (!json_is_object(st)) {
        fprintf(out, "no stack is up ('otap up' starts one)\n");
        return;
    }
    if (!json_is_true(json_object_get(st, "supervisor_alive")))
        fprintf(out,
                "%swarning:%s the stack's supervisor (pid %lld) is gone: 'otap down' stops "
                "what it left\n",
                cli_yellow(cli), cli_reset(cli),
                (long long)json_integer_value(json_object_get(st, "supervisor")));
    fprintf(out, "%-16s %-10s %7s %6s %8s  %s\n", "SERVICE", "STATE", "PID", "PORT", "RESTARTS",
            "NOTE");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(st, "services"), i, s)
    {
        const char *state = json_string_value(json_object_get(s, "state"));
        const char *why = json_string_value(json_object_get(s, "why"));
        bool alive = json_is_true(json_object_get(s, "process_alive"));
        const char *col =
            !strcmp(state, "healthy") || !strcmp(state, "running") || !strcmp(state, "completed")
                ? cli_green(cli)
            : !strcmp(state, "failed") || !strcmp(state, "unhealthy") ? cli_red(cli)
                                                                      : cli_yellow(cli);
        long long pid = json_integer_value(json_object_get(s, "pid"));
        long long port = json_integer_value(json_object_get(s, "port"));
        char pidb[24], portb[16];
        snprintf(pidb, sizeof pidb, "%lld", pid);
        snprintf(portb, sizeof portb, "%lld", port);
        fprintf(out, "%-16s %s%-10s%s %7s %6s %8lld  %s%s\n",
                json_string_value(json_object_get(s, "name")), col, state, cli_reset(cli),
                pid ? pidb : "-", port ? portb : "-",
                (long long)json_integer_value(json_object_get(s, "restarts")),
                pid && !alive ? "process gone; " : "", why ? why : "");
    }
}

static int run_ps(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    json_t *st = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    rc = stack_status(cli->m, &st, &err);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "stack", st ? st : json_null()), render_ps);
    return 0;
}

/* ---- logs ------------------------------------------------------------------------- */

static volatile sig_atomic_t logs_stop;

static void on_int(int sig)
{
    (void)sig;
    logs_stop = 1;
}

static int run_logs(struct cli *cli, const struct cli_args *args)
{
    bool follow = cli_flag(args, "follow");
    size_t n = (size_t)(args->argc - 1);
    const char **names = xcalloc(cli->m->nservices + 1, sizeof(*names));
    size_t k = 0;
    if (n) {
        for (size_t i = 0; i < n; i++) {
            if (!manifest_service_find(cli->m, args->argv[1 + i])) {
                free(names);
                return cli_error(cli, OTAP_ENOTFOUND, "the manifest has no service '%s'",
                                 args->argv[1 + i]);
            }
            names[k++] = args->argv[1 + i];
        }
    } else {
        for (size_t i = 0; i < cli->m->nservices; i++)
            names[k++] = cli->m->services[i].name;
    }
    struct up_out out = {cli, 4};
    for (size_t i = 0; i < k; i++)
        out.width = (int)strlen(names[i]) > out.width ? (int)strlen(names[i]) : out.width;
    off_t *off = xcalloc(k ? k : 1, sizeof(*off));
    struct sigaction sa = {.sa_handler = on_int};
    sigemptyset(&sa.sa_mask);
    if (follow) {
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    do {
        for (size_t i = 0; i < k; i++) {
            char *path = stack_log_path(cli->m, names[i]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            free(path);
            if (fd < 0)
                continue;
            struct stat st;
            if (fstat(fd, &st) == 0 && st.st_size < off[i])
                off[i] = 0;
            if (fstat(fd, &st) == 0 && st.st_size > off[i]) {
                size_t want = (size_t)(st.st_size - off[i]);
                char *buf = xmalloc(want);
                ssize_t got = pread(fd, buf, want, off[i]);
                size_t used = 0;
                for (ssize_t j = 0; j < got; j++)
                    if (buf[j] == '\n') {
                        on_line(&out, names[i], buf + used, (size_t)j - used);
                        used = (size_t)j + 1;
                    }
                off[i] += (off_t)used;
                free(buf);
            }
            close(fd);
        }
        if (follow && !logs_stop) {
            struct timespec ts = {0, 100000000L};
            nanosleep(&ts, NULL);
        }
    } while (follow && !logs_stop);
    free(off);
    free(names);
    return 0;
}

/* ---- restart ------------------------------------------------------------------------ */

static int run_restart(struct cli *cli, const struct cli_args *args)
{
    if (args->argc != 2)
        return cli_usage_error(cli, "which service? give one NAME");
    struct otap_err err = OTAP_ERR_INIT;
    int rc = stack_restart(cli->m, args->argv[1], &err);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    if (!cli->quiet)
        printf("asked the supervisor to restart %s ('otap ps' shows it)\n", args->argv[1]);
    return 0;
}

const struct cmd cmd_up = {
    .name = "up",
    .summary = "start the local stack: depends_on order, health-gated, no Docker needed",
    .synopsis = "[SERVICE...] [--env ENV] [--detach]",
    .opts =
        (const struct cli_opt[]){
            {"env", 'e', "ENV", "whose config the services get (default development)"},
            {"detach", 'd', NULL, "hand the stack to a supervisor and return once it is up"},
            {0},
        },
    .about = "Nothing starts unless the environment's config contract holds, no stack is up, and\n"
             "every port needed is free (each holder is named). Services start in depends_on\n"
             "order with the canonical config and PORT; a dependent waits until what it depends\n"
             "on is healthy (a readiness path, a ready: probe, a kind: postgres answering) or,\n"
             "without one, started; depends_on: { job: completed } waits for a one-shot job to\n"
             "exit 0. Probes start at 5 ms and back off to 200 ms; start_timeout (60 s) bounds\n"
             "each service. Restarts follow restart (on-failure with backoff up to\n"
             "max_restarts, always, no). Ctrl-C stops everything in reverse order. Output goes to\n"
             ".otap/logs/<service>.log (rotated past 10 MiB) and, in the foreground, here with\n"
             "each service's name. kind: postgres runs Debian's PostgreSQL from\n"
             ".otap/data/<service> and applies the migrations before its dependents start.\n",
    .exits = "0 the stack ran (foreground) or is up (detach), 1 a service failed to start (what\n"
             "      had started was stopped), 2 usage, 3 invalid manifest, 4 refused (every\n"
             "      reason listed; nothing started)",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run_up,
};

const struct cmd cmd_down = {
    .name = "down",
    .summary = "stop the local stack, or what a killed supervisor left",
    .exits = "0 stopped (or nothing was up), 3 invalid manifest",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run_down,
};

const struct cmd cmd_ps = {
    .name = "ps",
    .summary = "the local stack's services: state, health, restarts",
    .exits = "0 ok, 3 invalid manifest",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run_ps,
};

const struct cmd cmd_logs = {
    .name = "logs",
    .summary = "the local stack's output, each line with its service",
    .synopsis = "[-f] [SERVICE...]",
    .opts =
        (const struct cli_opt[]){
            {"follow", 'f', NULL, "keep printing new lines until Ctrl-C"},
            {0},
        },
    .exits = "0 ok, 2 an unknown service, 3 invalid manifest",
    .flags = CMD_NEEDS_MANIFEST,
    .run = run_logs,
};

const struct cmd cmd_restart = {
    .name = "restart",
    .summary = "restart one service of the local stack",
    .synopsis = "SERVICE",
    .exits = "0 asked, 2 usage or an unknown service, 4 no stack is up",
    .flags = CMD_NEEDS_MANIFEST,
    .run = run_restart,
};

/*
 * The local stack's supervisor (stack.h): one loop that starts services
 * when what they depend on allows, probes them at a fine interval with
 * backoff, restarts them by their policy, writes the state file, and stops
 * everything in reverse order.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "stack/stack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/monotime.h"
#include "base/num.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "config/contract.h"
#include "health/probe.h"
#include "host/ports.h"
#include "stack/pgkind.h"
#include "base/banned.h"

#define STACK_STOP_GRACE_MS 5000
#define STACK_LOG_CAP (10L << 20) /* a log larger than this is rotated to .log.1 */
#define STACK_RESTART_BACKOFF_MAX_MS 5000
#define STACK_SETTLE_MS 300 /* how long a service with no readiness must stay up at start */

enum svc_state { S_PENDING, S_STARTING, S_RUNNING, S_HEALTHY, S_UNHEALTHY, S_COMPLETED, S_FAILED };

static const char *state_name(enum svc_state s)
{
    static const char *const names[] = {"pending",   "starting",  "running", "healthy",
                                        "unhealthy", "completed", "failed"};
    return names[s];
}

struct svc {
    const struct manifest_service *ms;
    bool needed;
    enum svc_state state;
    pid_t pid;
    int restarts, exit_code;
    long long started_ms, next_start_ms, next_probe_ms, probe_gap_ms;
    bool completes;   /* a dependent waits for it to complete: a one-shot job */
    bool pg_prepared; /* kind postgres: database made and migrated */
    char *why;
    off_t log_off;   /* how much of its log the foreground printed */
    off_t log_start; /* where this start's output begins (ready: log) */
};

struct sup {
    const struct stack_opts *o;
    const struct manifest *m;
    const char *env;
    struct svc *s;
    size_t n;
    char **envp; /* the environment's canonical config */
    bool ready_all, failed_start, dirty;
    char *state_path, *logdir;
};

static volatile sig_atomic_t stop_requested, restart_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_restart(int sig)
{
    (void)sig;
    restart_requested = 1;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void event(struct sup *u, const struct svc *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void event(struct sup *u, const struct svc *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = xvasprintf(fmt, ap);
    va_end(ap);
    if (u->o->event)
        u->o->event(u->o->ctx, s ? s->ms->name : "otap", what);
    else
        fprintf(stderr, "otap stack: %s%s%s\n", s ? s->ms->name : "", s ? ": " : "", what);
    free(what);
}

char *stack_log_path(const struct manifest *m, const char *service)
{
    return xasprintf("%s/.otap/logs/%s.log", m->dir, service);
}

static char *state_file(const struct manifest *m)
{
    return xasprintf("%s/.otap/run/stack.json", m->dir);
}

/* ---- the state file --------------------------------------------------------- */

static void write_state(struct sup *u)
{
    json_t *svcs = json_array();
    for (size_t i = 0; i < u->n; i++) {
        const struct svc *s = &u->s[i];
        if (!s->needed)
            continue;
        json_array_append_new(svcs, json_pack("{s:s, s:I, s:s, s:i, s:i, s:s?}", "name",
                                              s->ms->name, "pid", (json_int_t)s->pid, "state",
                                              state_name(s->state), "restarts", s->restarts, "port",
                                              s->ms->port, "why", s->why));
    }
    char *started = proc_start_time(getpid());
    json_t *doc = json_pack("{s:I, s:s, s:s, s:b, s:b, s:o}", "supervisor", (json_int_t)getpid(),
                            "started", started, "env", u->env, "ready", u->ready_all, "failed",
                            u->failed_start, "services", svcs);
    char *text = json_dumps(doc, JSON_INDENT(2));
    struct otap_err err = OTAP_ERR_INIT;
    fileio_write(u->state_path, text, strlen(text), false, 0644, &err);
    otap_err_release(&err);
    free(text);
    json_decref(doc);
    free(started);
    u->dirty = false;
}

/* ---- probes ------------------------------------------------------------------- */

/* Does the service tell when it is ready (a readiness path, a ready: probe, a database)? */
static bool has_readiness(const struct manifest_service *ms)
{
    return (ms->health.readiness && ms->port) || ms->ready.kind != READY_NONE ||
           (ms->kind && ms->port);
}

static bool http_ok(const char *url, enum probe_check check, const char *env)
{
    struct probe p = {.url = (char *)url, .check = check};
    struct probe_opts o = PROBE_OPTS_DEFAULT;
    o.timeout_ms = 1000;
    o.retries = 0;
    o.environment = env;
    struct otap_err err = OTAP_ERR_INIT;
    int rc = probe_run(&p, 1, &o, &err);
    bool ok = rc == 0 && p.ok;
    p.url = NULL;
    probe_release(&p);
    otap_err_release(&err);
    return ok;
}

static bool log_matches(struct sup *u, struct svc *s)
{
    char *path = stack_log_path(u->m, s->ms->name);
    struct strbuf sb = STRBUF_INIT;
    bool ok = false;
    if (strbuf_read_file(&sb, path, 0) == 0 && (off_t)sb.len > s->log_start) {
        int code;
        PCRE2_SIZE off;
        pcre2_code *rx = pcre2_compile((PCRE2_SPTR)s->ms->ready.what, PCRE2_ZERO_TERMINATED,
                                       PCRE2_MULTILINE, &code, &off, NULL);
        if (rx) {
            pcre2_match_data *md = pcre2_match_data_create_from_pattern(rx, NULL);
            ok = pcre2_match(rx, (PCRE2_SPTR)sb.buf + s->log_start, sb.len - (size_t)s->log_start,
                             0, 0, md, NULL) >= 0;
            pcre2_match_data_free(md);
            pcre2_code_free(rx);
        }
    }
    strbuf_release(&sb);
    free(path);
    return ok;
}

static bool probe_ready(struct sup *u, struct svc *s)
{
    const struct manifest_service *ms = s->ms;
    char *url = NULL;
    bool ok = false;
    switch (ms->ready.kind) {
    case READY_HTTP:
        url = xasprintf("http://127.0.0.1:%d%s", ms->port, ms->ready.what);
        ok = http_ok(url, PROBE_URL, NULL);
        break;
    case READY_TCP:
        ok = ports_answers(ms->ready.port ? ms->ready.port : ms->port);
        break;
    case READY_EXEC: {
        char *argv[] = {"sh", "-c", ms->ready.what, NULL};
        struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
        strbuf_init(&out, 65536);
        strbuf_init(&errout, 65536);
        int status = 0;
        struct otap_err err = OTAP_ERR_INIT;
        ok = proc_capture(argv, NULL, &out, &errout, &status, &err) == 0 && WIFEXITED(status) &&
             WEXITSTATUS(status) == 0;
        otap_err_release(&err);
        strbuf_release(&out);
        strbuf_release(&errout);
        break;
    }
    case READY_LOG:
        ok = log_matches(u, s);
        break;
    case READY_NONE:
        if (ms->kind)
            ok = ports_answers(ms->port) && pgkind_ready(ms);
        else {
            url = xasprintf("http://127.0.0.1:%d%s", ms->port, ms->health.readiness);
            ok = http_ok(url, PROBE_READINESS, NULL);
        }
        break;
    }
    free(url);
    return ok;
}

/* ---- starting and stopping ---------------------------------------------------- */

/* Rotates a log past its cap: copied to .log.1, then emptied (the writer appends on). */
static void rotate_log(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 || st.st_size < STACK_LOG_CAP)
        return;
    char *old = xasprintf("%s.1", path);
    struct strbuf sb = STRBUF_INIT;
    struct otap_err err = OTAP_ERR_INIT;
    if (strbuf_read_file(&sb, path, 0) == 0 &&
        fileio_write(old, sb.buf, sb.len, false, 0644, &err) == 0)
        truncate(path, 0);
    otap_err_release(&err);
    strbuf_release(&sb);
    free(old);
}

static char **service_env(struct sup *u, const struct svc *s)
{
    size_t n = 0;
    while (u->envp[n])
        n++;
    char **e = xcalloc(n + 2, sizeof(*e));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(u->envp[i], "PORT=", 5))
            e[k++] = xstrdup(u->envp[i]);
    if (s->ms->port)
        e[k++] = xasprintf("PORT=%d", s->ms->port);
    return e;
}

static void start(struct sup *u, struct svc *s)
{
    char *log = stack_log_path(u->m, s->ms->name);
    rotate_log(log);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct stat st;
    s->log_start = fd >= 0 && fstat(fd, &st) == 0 ? st.st_size : 0;
    char **argv = NULL;
    char *why = NULL;
    if (s->ms->kind)
        argv = pgkind_argv(u->m, s->ms, u->envp, &why);
    char **env = service_env(u, s);
    pid_t pid = why ? -1 : fork();
    if (pid == 0) {
        setpgid(0, 0);
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGTERM, &dfl, NULL);
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGUSR1, &dfl, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        if (chdir(u->m->dir) == 0) {
            if (argv)
                execve(argv[0], argv, env);
            else
                execve("/bin/sh", (char *[]){"sh", "-c", s->ms->run, NULL}, env);
        }
        fprintf(stderr, "otap: cannot start %s: %s\n", s->ms->name, strerror(errno));
        _exit(127);
    }
    for (char **e = env; e && *e; e++)
        free(*e);
    free(env);
    if (argv) {
        for (char **a = argv; *a; a++)
            free(*a);
        free(argv);
    }
    if (fd >= 0)
        close(fd);
    free(log);
    if (pid < 0) {
        s->state = S_FAILED;
        free(s->why);
        s->why = why ? why : xasprintf("cannot start: %s", strerror(errno));
        u->dirty = true;
        return;
    }
    setpgid(pid, pid);
    s->pid = pid;
    s->state = S_STARTING;
    s->started_ms = monotime_ms();
    s->next_probe_ms = s->started_ms;
    s->probe_gap_ms = 1;
    u->dirty = true;
    if (s->ms->port)
        event(u, s, "started (pid %d, port %d)", (int)pid, s->ms->port);
    else
        event(u, s, "started (pid %d)", (int)pid);
}

/* SIGTERM to the group, SIGKILL after the grace period; reaps. */
static void stop_group(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(-pid, SIGTERM);
    long long until = monotime_ms() + STACK_STOP_GRACE_MS;
    int st;
    while (waitpid(pid, &st, WNOHANG) == 0 && monotime_ms() < until)
        nap_ms(5);
    kill(-pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}

/* Everything, in reverse dependency order (the order they started in, backwards). */
static void stop_all(struct sup *u)
{
    for (size_t i = u->n; i-- > 0;) {
        struct svc *s = &u->s[i];
        if (s->pid > 0) {
            event(u, s, "stopping");
            stop_group(s->pid);
            s->pid = 0;
        }
    }
}

/* ---- the loop ------------------------------------------------------------------ */

static struct svc *by_name(struct sup *u, const char *name)
{
    for (size_t i = 0; i < u->n; i++)
        if (!strcmp(u->s[i].ms->name, name))
            return &u->s[i];
    return NULL;
}

static bool is_up(enum svc_state st)
{
    return st == S_RUNNING || st == S_HEALTHY || st == S_UNHEALTHY;
}

/* May s start now? 1 yes, 0 not yet, -1 never (a dependency failed). */
static int deps_allow(struct sup *u, struct svc *s, char **why)
{
    for (size_t k = 0; k < s->ms->ndepends_on; k++) {
        struct svc *d = by_name(u, s->ms->depends_on[k]);
        if (!d)
            continue;
        enum service_dep_cond c = s->ms->depends_cond ? s->ms->depends_cond[k] : DEP_DEFAULT;
        if (c == DEP_DEFAULT)
            c = has_readiness(d->ms) ? DEP_HEALTHY : DEP_STARTED;
        if (d->state == S_FAILED) {
            *why = xasprintf("not started: '%s' failed", d->ms->name);
            return -1;
        }
        bool ok = c == DEP_STARTED     ? is_up(d->state) || d->state == S_COMPLETED
                  : c == DEP_COMPLETED ? d->state == S_COMPLETED
                                       : d->state == S_HEALTHY;
        if (!ok)
            return 0;
    }
    return 1;
}

static void reap(struct sup *u)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct svc *s = NULL;
        for (size_t i = 0; i < u->n && !s; i++)
            if (u->s[i].pid == pid)
                s = &u->s[i];
        if (!s)
            continue;
        kill(-pid, SIGKILL); /* what it left in its group goes with it */
        s->pid = 0;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        s->exit_code = code;
        u->dirty = true;
        if (code == 0 && s->completes) {
            s->state = S_COMPLETED;
            event(u, s, "completed");
            continue;
        }
        enum service_restart policy = s->ms->restart;
        bool again =
            policy == SERVICE_RESTART_ALWAYS || (policy == SERVICE_RESTART_ON_FAILURE && code != 0);
        int limit = policy == SERVICE_RESTART_ALWAYS ? 1000000 : s->ms->max_restarts;
        char *how = code >= 0 ? xasprintf("exited %d", code)
                              : xasprintf("killed by signal %d", WTERMSIG(status));
        if (again && s->restarts < limit && !stop_requested) {
            long backoff = 100L << (s->restarts < 6 ? s->restarts : 6);
            if (backoff > STACK_RESTART_BACKOFF_MAX_MS)
                backoff = STACK_RESTART_BACKOFF_MAX_MS;
            s->restarts++;
            s->state = S_PENDING;
            s->next_start_ms = monotime_ms() + backoff;
            event(u, s, "%s: restarting in %ld ms (%d of %d)", how, backoff, s->restarts, limit);
        } else {
            s->state = code == 0 && !again ? S_COMPLETED : S_FAILED;
            free(s->why);
            s->why = again ? xasprintf("%s; gave up after %d restarts", how, s->restarts)
                           : xasprintf("%s", how);
            event(u, s, "%s", s->why);
        }
        free(how);
    }
}

static void tail_logs(struct sup *u)
{
    if (!u->o->line)
        return;
    for (size_t i = 0; i < u->n; i++) {
        struct svc *s = &u->s[i];
        if (!s->needed)
            continue;
        char *path = stack_log_path(u->m, s->ms->name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        free(path);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size < s->log_off)
            s->log_off = 0; /* rotated */
        if (fstat(fd, &st) == 0 && st.st_size > s->log_off) {
            size_t want = (size_t)(st.st_size - s->log_off);
            char *buf = xmalloc(want);
            ssize_t got = pread(fd, buf, want, s->log_off);
            /* whole lines only; the rest waits for its newline */
            size_t used = 0;
            for (ssize_t k = 0; k < got; k++)
                if (buf[k] == '\n') {
                    u->o->line(u->o->ctx, s->ms->name, buf + used, (size_t)k - used);
                    used = (size_t)k + 1;
                }
            s->log_off += (off_t)used;
            free(buf);
        }
        close(fd);
    }
}

static void handle_restart_request(struct sup *u)
{
    restart_requested = 0;
    char *req = xasprintf("%s/.otap/run/stack.restart", u->m->dir);
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, req, 256) == 0) {
        sb.buf[strcspn(sb.buf, "\n")] = '\0';
        struct svc *s = by_name(u, sb.buf);
        if (s && s->needed) {
            event(u, s, "restarting on request");
            stop_group(s->pid);
            s->pid = 0;
            s->restarts = 0;
            s->state = S_PENDING;
            s->next_start_ms = 0;
            s->pg_prepared = false;
            u->dirty = true;
        }
        unlink(req);
    }
    strbuf_release(&sb);
    free(req);
}

static int supervise(struct sup *u)
{
    struct sigaction sa = {.sa_handler = on_stop}, su = {.sa_handler = on_restart};
    sigemptyset(&sa.sa_mask);
    sigemptyset(&su.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &su, NULL);
    long long t0 = monotime_ms();
    write_state(u);
    int rc = 0;
    while (!stop_requested) {
        reap(u);
        if (restart_requested)
            handle_restart_request(u);
        long long now = monotime_ms();
        bool all = true;
        for (size_t i = 0; i < u->n; i++) {
            struct svc *s = &u->s[i];
            if (!s->needed)
                continue;
            if (s->state == S_PENDING && now >= s->next_start_ms) {
                char *why = NULL;
                int ok = deps_allow(u, s, &why);
                if (ok < 0) {
                    s->state = S_FAILED;
                    s->why = why;
                    u->dirty = true;
                } else if (ok > 0) {
                    start(u, s);
                }
            }
            if ((s->state == S_STARTING || is_up(s->state)) && now >= s->next_probe_ms) {
                if (!has_readiness(s->ms)) {
                    if (s->state == S_STARTING) {
                        s->state = S_RUNNING;
                        u->dirty = true;
                    }
                } else {
                    bool ok = probe_ready(u, s);
                    if (ok && s->ms->kind && !s->pg_prepared) {
                        /* the database the contract names, then the migrations */
                        char *why = pgkind_prepare(u->m, s->ms, u->env, u->o->otap, u->envp);
                        s->pg_prepared = true;
                        if (why) {
                            s->state = S_FAILED;
                            s->why = why;
                            event(u, s, "%s", why);
                            u->dirty = true;
                            continue;
                        }
                    }
                    if (ok && s->state != S_HEALTHY) {
                        if (s->state == S_STARTING)
                            event(u, s, "healthy in %lld ms", now - s->started_ms);
                        else
                            event(u, s, "healthy again");
                        s->state = S_HEALTHY;
                        u->dirty = true;
                    } else if (!ok && s->state == S_HEALTHY) {
                        s->state = S_UNHEALTHY;
                        event(u, s, "unhealthy: its readiness check fails");
                        u->dirty = true;
                    }
                    /* fine while starting (2 ms, backing off to 10 ms: a dependent waits for
                     * this); once a second after */
                    s->probe_gap_ms = s->state == S_STARTING
                                          ? (s->probe_gap_ms * 2 > 10 ? 10 : s->probe_gap_ms * 2)
                                          : 1000;
                    s->next_probe_ms = now + s->probe_gap_ms;
                }
                if (s->state == S_STARTING && now - s->started_ms > s->ms->start_timeout_s * 1000) {
                    s->state = S_FAILED;
                    free(s->why);
                    s->why =
                        xasprintf("not ready within %ld s (start_timeout)", s->ms->start_timeout_s);
                    event(u, s, "%s", s->why);
                    stop_group(s->pid);
                    s->pid = 0;
                    u->dirty = true;
                }
            }
            /* a service with no readiness counts as up once it has stayed up a moment: one
             * that dies at once must not make the stack look up */
            bool settled = s->state == S_HEALTHY || s->state == S_COMPLETED ||
                           (s->state == S_RUNNING && now - s->started_ms >= STACK_SETTLE_MS);
            if (!settled)
                all = false;
            if (s->state == S_FAILED && !u->ready_all && !u->failed_start) {
                u->failed_start = true;
                u->dirty = true;
            }
        }
        if (all && !u->ready_all) {
            u->ready_all = true;
            u->dirty = true;
            event(u, NULL, "the stack is up in %lld ms", monotime_ms() - t0);
        }
        if (u->dirty)
            write_state(u);
        tail_logs(u);
        if (u->failed_start) {
            rc = OTAP_EFOUND;
            break;
        }
        nap_ms(u->ready_all ? 50 : 2);
    }
    stop_all(u);
    tail_logs(u);
    u->ready_all = false;
    for (size_t i = 0; i < u->n; i++)
        u->s[i].pid = 0;
    write_state(u);
    /* a failed start leaves its state for 'otap up' to name what failed; a stop leaves none */
    if (!u->failed_start)
        unlink(u->state_path);
    return rc;
}

/* ---- up, down, ps, restart ------------------------------------------------------ */

/* Marks s and everything it depends on as needed. */
static void need(struct sup *u, struct svc *s)
{
    if (s->needed)
        return;
    s->needed = true;
    for (size_t k = 0; k < s->ms->ndepends_on; k++) {
        struct svc *d = by_name(u, s->ms->depends_on[k]);
        if (!d)
            continue;
        if (s->ms->depends_cond && s->ms->depends_cond[k] == DEP_COMPLETED)
            d->completes = true;
        need(u, d);
    }
}

/* Services in depends_on order: each after what it depends on. */
static void order(struct sup *u, const struct manifest *m)
{
    size_t n = m->nservices, k = 0;
    bool *placed = xcalloc(n ? n : 1, sizeof(*placed));
    u->s = xcalloc(n ? n : 1, sizeof(*u->s));
    while (k < n) {
        bool progress = false;
        for (size_t i = 0; i < n; i++) {
            if (placed[i])
                continue;
            bool ready = true;
            for (size_t d = 0; d < m->services[i].ndepends_on && ready; d++) {
                const struct manifest_service *dep =
                    manifest_service_find(m, m->services[i].depends_on[d]);
                ready = !dep || placed[dep - m->services];
            }
            if (ready) {
                placed[i] = true;
                u->s[k++].ms = &m->services[i];
                progress = true;
            }
        }
        if (!progress)
            break; /* a cycle: the manifest refuses it already */
    }
    u->n = k;
    free(placed);
}

/* What failed to start, for the caller to name. */
static void failures(struct sup *u, struct strvec *out)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->s[i].needed && u->s[i].state == S_FAILED)
            strvec_pushf(out, "%s: %s", u->s[i].ms->name, u->s[i].why ? u->s[i].why : "failed");
}

/* Is the supervisor in the state file alive (same pid and start time)? */
static bool zombie(long long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%lld/stat", pid);
    struct strbuf sb = STRBUF_INIT;
    bool z = false;
    if (strbuf_read_file(&sb, path, 4096) == 0) {
        const char *p = strrchr(sb.buf, ')');
        z = p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
    }
    strbuf_release(&sb);
    return z;
}

static bool supervisor_alive(json_t *st)
{
    json_int_t pid = json_integer_value(json_object_get(st, "supervisor"));
    const char *started = json_string_value(json_object_get(st, "started"));
    if (pid <= 1 || !started)
        return false;
    char *now = proc_start_time(pid);
    /* a zombie (exited, waiting for init to reap it) is gone */
    bool alive = *now && !strcmp(now, started) && !zombie(pid);
    free(now);
    return alive;
}

static json_t *read_state(const struct manifest *m)
{
    char *path = state_file(m);
    json_error_t je;
    json_t *st = json_load_file(path, 0, &je);
    free(path);
    return json_is_object(st) ? st : (json_decref(st), NULL);
}

int stack_status(const struct manifest *m, json_t **out, struct otap_err *err)
{
    (void)err;
    *out = NULL;
    json_t *st = read_state(m);
    if (!st)
        return 0;
    bool alive = supervisor_alive(st);
    json_object_set_new(st, "supervisor_alive", json_boolean(alive));
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(st, "services"), i, s)
    {
        json_int_t pid = json_integer_value(json_object_get(s, "pid"));
        bool running = pid > 0 && kill((pid_t)pid, 0) == 0;
        json_object_set_new(s, "process_alive", json_boolean(running));
    }
    *out = st;
    return 0;
}

int stack_restart(const struct manifest *m, const char *service, struct otap_err *err)
{
    json_t *st = read_state(m);
    if (!st || !supervisor_alive(st)) {
        json_decref(st);
        return otap_err_set(err, OTAP_EREFUSED, "no stack is up ('otap up --detach' starts one)");
    }
    bool known = false;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(st, "services"), i, s) known |=
        !strcmp(json_string_value(json_object_get(s, "name")), service);
    int rc = 0;
    if (!known) {
        rc = otap_err_set(err, OTAP_ENOTFOUND, "the stack runs no service '%s'", service);
    } else {
        char *req = xasprintf("%s/.otap/run/stack.restart", m->dir);
        rc = fileio_write(req, service, strlen(service), false, 0644, err);
        if (rc == 0)
            kill((pid_t)json_integer_value(json_object_get(st, "supervisor")), SIGUSR1);
        free(req);
    }
    json_decref(st);
    return rc;
}

int stack_down(const struct manifest *m, bool *was_up, struct otap_err *err)
{
    (void)err;
    *was_up = false;
    json_t *st = read_state(m);
    if (!st)
        return 0;
    *was_up = true;
    pid_t sup = (pid_t)json_integer_value(json_object_get(st, "supervisor"));
    if (supervisor_alive(st)) {
        kill(sup, SIGTERM);
        /* it stops its services, each with its own grace period */
        long long until = monotime_ms() + STACK_STOP_GRACE_MS * 2 + 2000;
        while (monotime_ms() < until && supervisor_alive(st))
            nap_ms(5);
        if (supervisor_alive(st))
            kill(-sup, SIGKILL);
    }
    /* a supervisor killed with kill -9 left its services: they go the same way */
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(st, "services"), i, s)
    {
        pid_t pid = (pid_t)json_integer_value(json_object_get(s, "pid"));
        if (pid > 1 && kill(-pid, 0) == 0) {
            kill(-pid, SIGTERM);
            long long until = monotime_ms() + STACK_STOP_GRACE_MS;
            while (monotime_ms() < until && kill(-pid, 0) == 0)
                nap_ms(5);
            kill(-pid, SIGKILL);
        }
    }
    char *path = state_file(m);
    unlink(path);
    free(path);
    json_decref(st);
    return 0;
}

/* Every check before anything starts; true when none failed. */
static bool preflight(struct sup *u, struct strvec *refusals, struct otap_err *err)
{
    const struct stack_opts *o = u->o;
    json_t *st = read_state(u->m);
    if (st && supervisor_alive(st))
        strvec_pushf(refusals,
                     "a stack is up already (supervisor pid %lld): 'otap ps' shows it, "
                     "'otap down' stops it",
                     (long long)json_integer_value(json_object_get(st, "supervisor")));
    json_decref(st);
    struct contract_eval ev;
    struct otap_err e = OTAP_ERR_INIT;
    if (contract_eval(&ev, u->m, o->manifest_name, u->env, o->process_env, &e) < 0) {
        otap_err_set(err, e.code, "%s", e.msg);
        otap_err_release(&e);
        return false;
    }
    for (size_t i = 0; i < ev.diags.n; i++)
        if (ev.diags.items[i].severity == DIAG_ERROR)
            strvec_pushf(refusals, "config of %s: %s:%d: %s", u->env,
                         o->manifest_name ? o->manifest_name : "otap.yaml", ev.diags.items[i].line,
                         ev.diags.items[i].msg);
    u->envp = contract_child_env(&ev, o->process_env);
    contract_eval_release(&ev);
    /* every port this stack needs is free: name whoever holds one */
    int lo = 65536, hi = 0;
    for (size_t i = 0; i < u->n; i++)
        if (u->s[i].needed && u->s[i].ms->port) {
            lo = u->s[i].ms->port < lo ? u->s[i].ms->port : lo;
            hi = u->s[i].ms->port > hi ? u->s[i].ms->port : hi;
        }
    struct port_listeners l = {0};
    if (hi && ports_listeners(lo, hi, &l, &e) == 0) {
        for (size_t i = 0; i < u->n; i++) {
            if (!u->s[i].needed || !u->s[i].ms->port)
                continue;
            for (size_t k = 0; k < l.n; k++)
                if (l.items[k].port == u->s[i].ms->port) {
                    if (l.items[k].pid)
                        strvec_pushf(refusals, "port %d of %s is held by pid %d (%s)",
                                     u->s[i].ms->port, u->s[i].ms->name, (int)l.items[k].pid,
                                     l.items[k].command ? l.items[k].command : "?");
                    else
                        strvec_pushf(refusals, "port %d of %s is held by a process otap cannot see",
                                     u->s[i].ms->port, u->s[i].ms->name);
                    break;
                }
        }
    }
    ports_listeners_release(&l);
    otap_err_release(&e);
    return refusals->n == 0;
}

int stack_up(const struct stack_opts *o, struct strvec *refusals, struct otap_err *err)
{
    const struct manifest *m = o->m;
    struct sup u = {.o = o, .m = m, .env = o->env ? o->env : "development"};
    const struct manifest_env *env = manifest_env_find(m, u.env);
    if (!env)
        return otap_err_set(err, OTAP_ENOTFOUND, "no environment '%s'", u.env);
    u.env = env->name;
    order(&u, m);
    for (size_t i = 0; i < o->nonly; i++) {
        struct svc *s = by_name(&u, o->only[i]);
        if (!s) {
            free(u.s);
            return otap_err_set(err, OTAP_ENOTFOUND, "the manifest has no service '%s'",
                                o->only[i]);
        }
        need(&u, s);
    }
    for (size_t i = 0; !o->nonly && i < u.n; i++)
        if (u.s[i].ms->run || u.s[i].ms->kind)
            need(&u, &u.s[i]);
    /* a service needed with nothing to run cannot be started */
    for (size_t i = 0; i < u.n; i++)
        if (u.s[i].needed && !u.s[i].ms->run && !u.s[i].ms->kind)
            strvec_pushf(refusals, "service '%s' has no 'run' command (nor a kind) to start it",
                         u.s[i].ms->name);
    int rc = 0;
    if (!preflight(&u, refusals, err) || refusals->n) {
        rc = err->msg ? err->code : OTAP_EREFUSED;
        goto out;
    }
    u.state_path = state_file(m);
    char *rundir = xasprintf("%s/.otap/run", m->dir), *logdir = xasprintf("%s/.otap/logs", m->dir);
    rc = fileio_mkdirs(rundir, ".otap/run", err);
    if (rc == 0)
        rc = fileio_mkdirs(logdir, ".otap/logs", err);
    free(rundir);
    free(logdir);
    if (rc < 0)
        goto out;
    if (!o->detach) {
        rc = supervise(&u);
        if (rc < 0)
            failures(&u, refusals);
        goto out;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot start the supervisor: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        setsid();
        char *log = xasprintf("%s/.otap/logs/stack.log", m->dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        struct stack_opts quiet = *o;
        quiet.line = NULL;
        quiet.event = NULL;
        u.o = &quiet;
        _exit(supervise(&u) == 0 ? 0 : 1);
    }
    /* the parent waits until the stack is up, or failed and stopped */
    for (;;) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            json_t *s = read_state(m);
            size_t i;
            json_t *v;
            json_array_foreach(
                json_object_get(s, "services"), i,
                v) if (!strcmp(json_string_value(json_object_get(v, "state")), "failed"))
                strvec_pushf(refusals, "%s: %s", json_string_value(json_object_get(v, "name")),
                             json_string_value(json_object_get(v, "why")));
            json_decref(s);
            rc = OTAP_EFOUND;
            break;
        }
        json_t *s = read_state(m);
        bool ready = s && json_is_true(json_object_get(s, "ready"));
        json_decref(s);
        if (ready)
            break;
        nap_ms(5);
    }
out:
    if (u.envp)
        contract_child_env_free(u.envp);
    for (size_t i = 0; i < u.n; i++)
        free(u.s[i].why);
    free(u.s);
    free(u.state_path);
    return rc;
}

/*
 * The run and local deploy drivers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deploy/driver.h"
#include "base/monotime.h"
#include "base/fileio.h"
#include "base/num.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "host/ports.h"
#include "base/banned.h"

#define STOP_GRACE_MS 10000
#define RESTART_BACKOFF_MAX_S 30

static void nap_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

const struct manifest_service *driver_local_service(const struct manifest *m,
                                                    const struct manifest_env *env)
{
    if (env->deploy.service)
        return manifest_service_find(m, env->deploy.service);
    const struct manifest_service *only = NULL;
    for (size_t i = 0; i < m->nservices; i++) {
        if (!m->services[i].run)
            continue;
        if (only)
            return NULL;
        only = &m->services[i];
    }
    return only;
}

/* The port of a URL on this machine (127.0.0.1, localhost, [::1]); 0 otherwise. */
static int local_port(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return 0;
    p += 3;
    static const char *const hosts[] = {"127.0.0.1:", "localhost:", "[::1]:"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(p, hosts[i], n))
            continue;
        long long port;
        char digits[8] = "";
        size_t d = strspn(p + n, "0123456789");
        if (d == 0 || d >= sizeof(digits))
            return 0;
        memcpy(digits, p + n, d);
        if (num_parse_ll(digits, &port) < 0 || port < 1 || port > 65535)
            return 0;
        return (int)port;
    }
    return 0;
}

char *driver_refusal(const struct manifest *m, const struct manifest_env *env,
                     const struct artifact *a)
{
    if (!env->deploy.driver)
        return xasprintf("%s has no deploy: add deploy: { run: COMMAND } or deploy: { driver: "
                         "local } to it in the manifest",
                         env->name);
    if (strcmp(env->deploy.driver, "local"))
        return NULL;
    const struct manifest_service *svc = driver_local_service(m, env);
    if (!svc)
        return xasprintf("the local driver of %s does not know which service to run: give "
                         "deploy: { driver: local, service: NAME }",
                         env->name);
    if (!a->path)
        return xasprintf("build %s was registered by its digest alone: the local driver needs "
                         "its files (register the file or directory)",
                         a->digest);
    if (!strcmp(a->kind, "dir") && !svc->run)
        return xasprintf("service '%s' has no 'run' command to start the directory build with",
                         svc->name);
    char *url = manifest_service_url(m, svc, env);
    char *why = NULL;
    if (!url)
        why = xasprintf("%s gives service '%s' no URL: add urls: { %s: http://127.0.0.1:PORT }",
                        env->name, svc->name, env->name);
    else if (!local_port(url))
        why = xasprintf("the local driver runs '%s' on this machine, but %s's URL for it is %s",
                        svc->name, env->name, url);
    free(url);
    return why;
}

/* The child's environment: the config, then otap's own variables. */
static char **child_env(const struct driver_request *rq, int port)
{
    size_t n = 0;
    while (rq->config_env && rq->config_env[n])
        n++;
    char **e = xcalloc(n + 8, sizeof(*e));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!port || strncmp(rq->config_env[i], "PORT=", 5))
            e[k++] = xstrdup(rq->config_env[i]);
    const struct artifact *a = rq->a;
    e[k++] = xasprintf("OTAP_ENVIRONMENT=%s", rq->env->name);
    e[k++] = xasprintf("OTAP_ARTIFACT_DIGEST=%s", a->digest);
    e[k++] = xasprintf("OTAP_ARTIFACT_VERSION=%s", a->version ? a->version : "");
    e[k++] = xasprintf("OTAP_ARTIFACT_PATH=%s", a->path ? a->path : "");
    e[k++] = xasprintf("OTAP_ARTIFACT_COMMIT=%s", a->commit ? a->commit : "");
    if (port)
        e[k++] = xasprintf("PORT=%d", port);
    return e;
}

static void free_env(char **e)
{
    for (size_t i = 0; e && e[i]; i++)
        free(e[i]);
    free(e);
}

static void logf_(const struct driver_request *rq, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(const struct driver_request *rq, const char *fmt, ...)
{
    if (!rq->log)
        return;
    struct strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    rq->log(rq->log_ctx, sb.buf);
    strbuf_release(&sb);
}

static char *describe_status(int status)
{
    if (WIFEXITED(status))
        return xasprintf("exited with status %d", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return xasprintf("was killed by signal %d", WTERMSIG(status));
    return xstrdup("stopped");
}

/*
 * Hands every complete line of what the deploy command wrote to the log
 * callback (and with it to otap's redacting output), keeping the rest.
 * At the end (flush), the unfinished line goes too.
 */
static void relay(const struct driver_request *rq, int fd, struct strbuf *pending, bool flush)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        strbuf_add(pending, buf, (size_t)n);
    char *start = pending->buf, *nl;
    while ((nl = memchr(start, '\n', pending->len - (size_t)(start - pending->buf)))) {
        *nl = '\0';
        logf_(rq, "| %s", start);
        start = nl + 1;
    }
    size_t rest = pending->len - (size_t)(start - pending->buf);
    if (flush && rest) {
        logf_(rq, "| %.*s", (int)rest, start);
        rest = 0;
    }
    memmove(pending->buf, start, rest);
    strbuf_setlen(pending, rest);
}

static int deploy_run(const struct driver_request *rq, struct otap_err *err)
{
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot start the deploy command: %s",
                            strerror(errno));
    char **envp = child_env(rq, 0);
    long timeout_ms = rq->env->deploy.timeout_s * 1000;
    logf_(rq, "running the deploy command of %s (timeout %lds)", rq->env->name,
          rq->env->deploy.timeout_s);
    pid_t pid = fork();
    if (pid < 0) {
        free_env(envp);
        close(out[0]);
        close(out[1]);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot start the deploy command: %s",
                            strerror(errno));
    }
    if (pid == 0) {
        /* its own group, so a timeout stops the whole command; its output is progress */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        /* its output reaches the user through otap, and so through the redactor */
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        closefrom(3);
        if (rq->m->dir && chdir(rq->m->dir) < 0)
            _exit(126);
        execle("/bin/sh", "sh", "-c", rq->env->deploy.run, (char *)NULL, envp);
        _exit(127);
    }
    free_env(envp);
    close(out[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    struct strbuf pending = STRBUF_INIT;
    long long deadline = monotime_ms() + timeout_ms;
    int status = 0;
    int rc = 0;
    for (;;) {
        relay(rq, out[0], &pending, false);
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            rc = otap_err_set(err, OTAP_EEXTERNAL, "lost the deploy command: %s", strerror(errno));
            break;
        }
        if (monotime_ms() >= deadline) {
            kill(-pid, SIGTERM);
            for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++)
                nap_ms(100);
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            rc = otap_err_set(err, OTAP_EEXTERNAL,
                              "the deploy command of %s timed out after %lds and was stopped",
                              rq->env->name, rq->env->deploy.timeout_s);
            break;
        }
        nap_ms(50);
    }
    relay(rq, out[0], &pending, true);
    close(out[0]);
    strbuf_release(&pending);
    if (rc < 0)
        return rc;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char *how = describe_status(status);
    rc = otap_err_set(err, OTAP_EEXTERNAL, "the deploy command of %s %s", rq->env->name, how);
    free(how);
    return rc;
}

/* ---- the local driver ---------------------------------------------------- */

static char *pid_path(const struct manifest *m, const char *env)
{
    return xasprintf("%s/.otap/run/%s.pid", m->dir, env);
}

int driver_local_stop(const struct manifest *m, const char *env, struct otap_err *err)
{
    char *path = pid_path(m, env);
    struct strbuf sb = STRBUF_INIT;
    int rc = 0;
    if (strbuf_read_file(&sb, path, 256) >= 0) {
        long long pid = 0;
        char *sp = strchr(sb.buf, ' ');
        char *started = sp ? xstrndup(sp + 1, strcspn(sp + 1, "\n")) : xstrdup("");
        if (sp)
            *sp = '\0';
        char *now = NULL;
        if (num_parse_ll(sb.buf, &pid) == 0 && pid > 1 &&
            !strcmp(now = proc_start_time(pid), started) && *started) {
            kill((pid_t)pid, SIGTERM);
            long long deadline = monotime_ms() + STOP_GRACE_MS + 2000;
            char *cur = NULL;
            while (monotime_ms() < deadline) {
                free(cur);
                cur = proc_start_time(pid);
                if (strcmp(cur, started))
                    break;
                nap_ms(50);
            }
            if (cur && !strcmp(cur, started)) {
                kill(-(pid_t)pid, SIGKILL); /* the supervisor leads its own group */
                for (int i = 0; i < 100; i++) {
                    free(cur);
                    cur = proc_start_time(pid);
                    if (strcmp(cur, started))
                        break;
                    nap_ms(20);
                }
            }
            free(cur);
        }
        free(now);
        free(started);
        if (unlink(path) < 0 && errno != ENOENT)
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot remove '%s': %s", path, strerror(errno));
    }
    strbuf_release(&sb);
    free(path);
    return rc;
}

static volatile sig_atomic_t supervisor_stop;

static void on_term(int sig)
{
    (void)sig;
    supervisor_stop = 1;
}

static void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void slog(const char *fmt, ...)
{
    char at[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "otap supervisor %s: ", at);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The supervisor: runs the service, restarts it when it dies, stops it on SIGTERM. */
static void supervise(const struct driver_request *rq, const struct manifest_service *svc,
                      char **envp)
{
    struct sigaction sa = {.sa_handler = on_term};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    long backoff = 1;
    const struct artifact *a = rq->a;
    slog("starting %s %s for %s", svc->name, a->version ? a->version : a->digest, rq->env->name);
    while (!supervisor_stop) {
        long long started = monotime_ms();
        pid_t pid = fork();
        if (pid == 0) {
            struct sigaction dfl = {.sa_handler = SIG_DFL};
            sigaction(SIGTERM, &dfl, NULL);
            sigaction(SIGINT, &dfl, NULL);
            signal(SIGHUP, SIG_DFL);
            if (!strcmp(a->kind, "dir")) {
                if (chdir(a->path) < 0)
                    _exit(126);
                execle("/bin/sh", "sh", "-c", svc->run, (char *)NULL, envp);
            } else {
                execle(a->path, a->path, (char *)NULL, envp);
            }
            fprintf(stderr, "cannot start %s: %s\n", a->path, strerror(errno));
            _exit(127);
        }
        if (pid < 0) {
            slog("cannot fork: %s", strerror(errno));
        } else {
            int status = 0;
            while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                    break;
                if (supervisor_stop) {
                    kill(pid, SIGTERM);
                    long long deadline = monotime_ms() + STOP_GRACE_MS;
                    while (waitpid(pid, &status, WNOHANG) == 0 && monotime_ms() < deadline)
                        nap_ms(50);
                    kill(pid, SIGKILL);
                    waitpid(pid, &status, 0);
                    slog("stopped %s", svc->name);
                    _exit(0);
                }
            }
            char *how = describe_status(status);
            slog("%s %s", svc->name, how);
            free(how);
        }
        if (monotime_ms() - started > RESTART_BACKOFF_MAX_S * 1000)
            backoff = 1;
        if (supervisor_stop)
            break;
        slog("restarting %s in %lds", svc->name, backoff);
        for (long i = 0; i < backoff * 10 && !supervisor_stop; i++)
            nap_ms(100);
        backoff = backoff * 2 > RESTART_BACKOFF_MAX_S ? RESTART_BACKOFF_MAX_S : backoff * 2;
    }
    _exit(0);
}

static int deploy_local(const struct driver_request *rq, struct otap_err *err)
{
    const struct manifest *m = rq->m;
    const struct manifest_service *svc = driver_local_service(m, rq->env);
    char *url = svc ? manifest_service_url(m, svc, rq->env) : NULL;
    int port = url ? local_port(url) : 0;
    free(url);
    if (!svc || !port || !rq->a->path)
        return otap_err_set(err, OTAP_EREFUSED, "the local driver cannot run this build");

    /* the files must still be the build that was registered */
    char *digest = NULL;
    const char *kind;
    int rc = artifact_digest_path(rq->a->path, &digest, &kind, err);
    if (rc == 0 && strcmp(digest, rq->a->digest))
        rc = otap_err_set(err, OTAP_EREFUSED,
                          "'%s' changed since it was registered: it is %s now, not %s", rq->a->path,
                          digest, rq->a->digest);
    free(digest);
    if (rc < 0)
        return rc;

    if ((rc = driver_local_stop(m, rq->env->name, err)) < 0)
        return rc;
    /* a listener just stopped may take a moment to let go of its port */
    for (int i = 0; i < 40 && ports_answers(port); i++)
        nap_ms(50);
    if (ports_answers(port))
        return otap_err_set(err, OTAP_EEXTERNAL,
                            "port %d of %s is held by another program ('otap ports check' "
                            "shows it)",
                            port, rq->env->name);
    char *rundir = xasprintf("%s/.otap/run", m->dir), *logdir = xasprintf("%s/.otap/logs", m->dir);
    rc = fileio_mkdirs(rundir, ".otap/run", err);
    if (rc == 0)
        rc = fileio_mkdirs(logdir, ".otap/logs", err);
    char *logpath = xasprintf("%s/%s.log", logdir, rq->env->name);
    free(rundir);
    free(logdir);
    int logfd = rc == 0 ? open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    if (rc == 0 && logfd < 0)
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot open '%s': %s", logpath, strerror(errno));
    if (rc < 0) {
        free(logpath);
        return rc;
    }
    logf_(rq, "starting %s on port %d (log: %s)", svc->name, port, logpath);
    free(logpath);
    char **envp = child_env(rq, port);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        free_env(envp);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot start the supervisor: %s",
                            strerror(errno));
    }
    if (pid == 0) {
        /* a parent may block signals for sigwait() (otap serve): the supervisor must get them */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setsid();
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        closefrom(3);
        supervise(rq, svc, envp);
        _exit(0);
    }
    close(logfd);
    free_env(envp);
    char *started = proc_start_time(pid);
    char *line = xasprintf("%lld %s\n", (long long)pid, started);
    char *path = pid_path(m, rq->env->name);
    rc = fileio_write(path, line, strlen(line), false, 0644, err);
    free(path);
    free(line);
    free(started);
    return rc;
}

int driver_deploy(const struct driver_request *rq, struct otap_err *err)
{
    char *why = driver_refusal(rq->m, rq->env, rq->a);
    if (why) {
        int rc = otap_err_set(err, OTAP_EREFUSED, "%s", why);
        free(why);
        return rc;
    }
    if (!strcmp(rq->env->deploy.driver, "local"))
        return deploy_local(rq, err);
    return deploy_run(rq, err);
}

/*
 * Running the plan (ci.h): each step in its own process group, with its
 * environment's canonical config (built-ins, being otap, read their own),
 * after the services it names answer on their ports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ci/ci.h"
#include "base/fileio.h"
#include "base/monotime.h"
#include "base/proc.h"
#include "base/xalloc.h"
#include "host/ports.h"
#include "config/contract.h"
#include "base/banned.h"

/* How much of a step's output the report keeps: its end, where failures are. */
#define CI_TAIL_BYTES 8192
#define CI_SERVICE_WAIT_MS 60000

struct started {
    pid_t pid;
    const char *name;
};

struct running {
    const struct ci_run_opts *o;
    struct ci_step *step;
    struct started *services;
    size_t nservices, services_alloc;
};

static void on_line(void *ctx, bool from_stderr, const char *line, size_t len)
{
    struct running *r = ctx;
    struct strbuf *t = &r->step->tail;
    strbuf_add(t, line, len);
    strbuf_addch(t, '\n');
    if (t->len > 2 * CI_TAIL_BYTES) {
        /* keep the last CI_TAIL_BYTES, from a line's start */
        const char *cut = memchr(t->buf + t->len - CI_TAIL_BYTES, '\n', CI_TAIL_BYTES);
        size_t from = cut ? (size_t)(cut - t->buf) + 1 : t->len - CI_TAIL_BYTES;
        memmove(t->buf, t->buf + from, t->len - from);
        strbuf_setlen(t, t->len - from);
    }
    if (r->o->hooks.line)
        r->o->hooks.line(r->o->hooks.ctx, r->step, from_stderr, line, len);
}

/*
 * A service a gate needs: up already (its port answers), else started
 * from its run command with the gate's config and PORT, and waited for.
 */
static char *ensure_service(struct running *r, const struct manifest_service *svc,
                            char *const *envp)
{
    if (!svc->port)
        return xasprintf("service '%s' has no port to wait for", svc->name);
    if (ports_answers(svc->port))
        return NULL;
    for (size_t i = 0; i < r->nservices; i++)
        if (r->services[i].name == svc->name)
            return xasprintf("service '%s' was started but does not answer on port %d", svc->name,
                             svc->port);
    if (!svc->run)
        return xasprintf("service '%s' does not answer on port %d and has no 'run' to start it",
                         svc->name, svc->port);
    char *logdir = xasprintf("%s/.otap/logs", r->o->dir);
    char *log = xasprintf("%s/ci-%s.log", logdir, svc->name);
    struct otap_err e = OTAP_ERR_INIT;
    fileio_mkdirs(logdir, ".otap/logs", &e);
    otap_err_release(&e);
    size_t n = 0;
    while (envp[n])
        n++;
    char **env = xcalloc(n + 2, sizeof(*env));
    memcpy(env, envp, n * sizeof(*env));
    char *port = xasprintf("PORT=%d", svc->port);
    env[n] = port;
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        if (chdir(r->o->dir) == 0)
            execve("/bin/sh", (char *[]){"sh", "-c", svc->run, NULL}, env);
        _exit(127);
    }
    free(env);
    free(port);
    free(logdir);
    char *why = NULL;
    if (pid < 0) {
        why = xasprintf("cannot start service '%s': %s", svc->name, strerror(errno));
    } else {
        setpgid(pid, pid);
        struct started *s = XPUSH(&r->services, &r->nservices, &r->services_alloc);
        s->pid = pid;
        s->name = svc->name;
        long long until = monotime_ms() + CI_SERVICE_WAIT_MS;
        int st;
        for (long long delay = 5;; delay = delay < 200 ? delay * 2 : 200) {
            if (ports_answers(svc->port))
                break;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                s->pid = 0;
                why = xasprintf("service '%s' exited before answering on port %d (log: %s)",
                                svc->name, svc->port, log);
                break;
            }
            if (monotime_ms() > until) {
                why = xasprintf("service '%s' did not answer on port %d within %d s (log: %s)",
                                svc->name, svc->port, CI_SERVICE_WAIT_MS / 1000, log);
                break;
            }
            struct timespec ts = {0, delay * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    free(log);
    return why;
}

static void stop_services(struct running *r)
{
    for (size_t i = 0; i < r->nservices; i++) {
        pid_t pid = r->services[i].pid;
        if (pid <= 0)
            continue;
        kill(-pid, SIGTERM);
        int st;
        long long until = monotime_ms() + 5000;
        while (waitpid(pid, &st, WNOHANG) == 0 && monotime_ms() < until) {
            struct timespec ts = {0, 20000000L};
            nanosleep(&ts, NULL);
        }
        kill(-pid, SIGKILL);
        waitpid(pid, &st, WNOHANG);
    }
    free(r->services);
}

/* The step named, or NULL. */
static const struct ci_step *step_named(const struct ci_plan *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->steps[i].name, name))
            return &p->steps[i];
    return NULL;
}

static void fail(struct ci_step *s, char *why)
{
    s->status = CI_FAIL;
    free(s->reason);
    s->reason = why;
}

/* Runs one step; its status and reason say how it went. */
static void run_step(struct running *r, struct ci_step *s, struct otap_err *err)
{
    const struct ci_run_opts *o = r->o;
    char **envp = NULL;
    struct contract_eval ev;
    bool have_ev = false;
    if (s->gate) {
        /* the gate's environment's canonical config, as otap run gives it */
        struct otap_err e = OTAP_ERR_INIT;
        if (contract_eval(&ev, o->m, o->manifest_name, s->env->name, o->process_env, &e) < 0) {
            fail(s, xasprintf("%s", e.msg));
            otap_err_release(&e);
            return;
        }
        have_ev = true;
        if (diag_count(&ev.diags, DIAG_ERROR)) {
            struct strbuf sb = STRBUF_INIT;
            strbuf_addf(&sb, "the config contract of %s does not hold:", s->env->name);
            for (size_t i = 0; i < ev.diags.n; i++)
                if (ev.diags.items[i].severity == DIAG_ERROR)
                    strbuf_addf(&sb, " %s;", ev.diags.items[i].msg);
            strbuf_setlen(&sb, sb.len - 1);
            fail(s, strbuf_detach(&sb, NULL));
            contract_eval_release(&ev);
            return;
        }
        envp = contract_child_env(&ev, o->process_env);
        for (size_t i = 0; !s->reason && i < s->gate->nservices; i++) {
            const struct manifest_service *svc = manifest_service_find(o->m, s->gate->services[i]);
            char *why = svc ? ensure_service(r, svc, envp) : NULL;
            if (why)
                fail(s, why);
        }
    }
    if (!s->reason) {
        char *argv[] = {"sh", "-c", s->command, NULL};
        int status = 0;
        bool timed_out = false;
        long long t0 = monotime_ns();
        int rc =
            proc_relay_group(argv, envp ? envp : o->process_env, o->dir,
                             (long long)s->timeout_s * 1000, on_line, r, &status, &timed_out, err);
        s->seconds = monotime_seconds_since(t0);
        s->timed_out = timed_out;
        if (rc < 0) {
            fail(s, xasprintf("%s", err->msg ? err->msg : "cannot start sh"));
        } else if (timed_out) {
            s->exit_code = -1;
            fail(s,
                 xasprintf("timed out after %ld s: its process group was stopped", s->timeout_s));
        } else if (WIFSIGNALED(status)) {
            s->exit_code = -1;
            fail(s, xasprintf("killed by signal %d", WTERMSIG(status)));
        } else if ((s->exit_code = WEXITSTATUS(status))) {
            fail(s, xasprintf("exit %d", s->exit_code));
        } else {
            s->status = CI_PASS;
        }
    }
    if (envp)
        contract_child_env_free(envp);
    if (have_ev)
        contract_eval_release(&ev);
    /* the kept output leaves otap only redacted: JUnit files are uploaded */
    if (s->tail.len) {
        size_t n = 0;
        char *clean = redactor_apply(o->redact, s->tail.buf, s->tail.len, &n);
        strbuf_reset(&s->tail);
        strbuf_add(&s->tail, clean, n);
        free(clean);
    }
}

int ci_run(struct ci_plan *p, const struct ci_run_opts *o, struct otap_err *err)
{
    struct running r = {.o = o};
    const char *stopped_at = NULL;
    int rc = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct ci_step *s = &p->steps[i];
        r.step = s;
        const struct ci_step *blocked = NULL;
        for (size_t k = 0; s->gate && k < s->gate->nneeds && !blocked; k++) {
            const struct ci_step *need = step_named(p, s->gate->needs[k]);
            if (need && need->status != CI_PASS)
                blocked = need;
        }
        if (stopped_at || blocked) {
            s->status = CI_SKIPPED;
            /* what it needs says more than where the run stopped */
            s->reason = blocked ? xasprintf("not run: it needs '%s', which %s", blocked->name,
                                            blocked->status == CI_FAIL ? "failed" : "did not run")
                                : xasprintf("not run: the run stopped at '%s'", stopped_at);
            if (o->hooks.step)
                o->hooks.step(o->hooks.ctx, s, true);
            continue;
        }
        if (o->hooks.step)
            o->hooks.step(o->hooks.ctx, s, false);
        struct otap_err e = OTAP_ERR_INIT;
        run_step(&r, s, &e);
        otap_err_release(&e);
        if (o->hooks.step)
            o->hooks.step(o->hooks.ctx, s, true);
        if (s->status == CI_FAIL) {
            rc = OTAP_EFOUND;
            if (!o->keep_going)
                stopped_at = s->name;
        }
    }
    stop_services(&r);
    (void)err;
    return rc;
}

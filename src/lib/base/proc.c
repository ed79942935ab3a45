/*
 * fork, exec, and read both pipes until the child closes them, with
 * poll() so that a child filling stderr cannot deadlock us on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/proc.h"
#include "base/monotime.h"
#include "base/xalloc.h"
#include "base/banned.h"

static volatile sig_atomic_t relay_child, relay_group;

static void pass_on(int sig)
{
    if (relay_child > 0)
        kill(relay_group ? -(pid_t)relay_child : (pid_t)relay_child, sig);
}

/* One child: how it starts, and where what it writes goes. */
struct child {
    char *const *argv;
    char *const *envp;    /* exactly this environment (execvpe), or NULL: */
    char *const *extra;   /* the parent's plus these "K=V" entries */
    const char *cwd;      /* NULL: here */
    bool pass_signals;    /* ignore ^C here (the child gets it), pass SIGTERM/SIGHUP on */
    bool group;           /* the child leads its own process group, and the group is signalled */
    long long timeout_ms; /* > 0: after this long the group gets SIGTERM, 2 s later SIGKILL */
    bool *timed_out;
    /* a chunk from stdout (0) or stderr (1); len 0: that stream ended */
    void (*on_data)(void *ctx, int stream, const char *data, size_t len);
    void *ctx;
};

/*
 * fork, exec, and read both pipes until the child closes them, with
 * poll() so that a child filling stderr cannot deadlock us on stdout.
 */
static int run_child(const struct child *c, int *status, struct otap_err *err)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, px[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(px, O_CLOEXEC) < 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0)
                close(po[i]);
            if (pe[i] >= 0)
                close(pe[i]);
            if (px[i] >= 0)
                close(px[i]);
        }
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot run '%s': %s", c->argv[0], strerror(e));
    }
    struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = pass_on}, old_int,
                     old_term, old_hup;
    sigemptyset(&ign.sa_mask);
    sigemptyset(&fwd.sa_mask);
    if (c->pass_signals) {
        sigaction(SIGINT, &ign, &old_int);
        sigaction(SIGTERM, &fwd, &old_term);
        sigaction(SIGHUP, &fwd, &old_hup);
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (c->group)
            setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        for (char *const *e = c->extra; e && *e; e++)
            putenv(*e);
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        int e = 0;
        if (c->cwd && chdir(c->cwd) < 0)
            e = errno;
        else if (c->envp)
            execvpe(c->argv[0], c->argv, c->envp);
        else
            execvp(c->argv[0], c->argv);
        e = e ? e : errno;
        /* tell the parent why exec failed through the close-on-exec pipe */
        (void)!write(px[1], &e, sizeof(e));
        _exit(127);
    }
    int fork_errno = pid < 0 ? errno : 0;
    if (pid > 0 && c->group)
        setpgid(pid, pid); /* also here: no signal may reach a group not made yet */
    relay_group = c->group;
    relay_child = pid > 0 ? pid : 0;
    close(po[1]);
    close(pe[1]);
    close(px[1]);
    int exec_errno = 0;
    ssize_t got = 0;
    if (pid > 0)
        do
            got = read(px[0], &exec_errno, sizeof(exec_errno));
        while (got < 0 && errno == EINTR);
    close(px[0]);

    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = pid > 0 ? 2 : 0;
    char chunk[65536];
    long long start = monotime_ms(), kill_at = c->timeout_ms > 0 ? start + c->timeout_ms : 0;
    long long exited_at = 0; /* a group's leader gone: what it left behind gets a second */
    int st = 0, signals = 0;
    bool reaped = false;
    while (open_fds > 0) {
        int wait_ms = -1;
        if (c->group) {
            long long now = monotime_ms();
            if (!reaped && waitpid(pid, &st, WNOHANG) == pid) {
                reaped = true;
                exited_at = now;
            }
            long long next = kill_at;
            if (exited_at && (!next || exited_at + 1000 < next))
                next = exited_at + 1000;
            if (next && now >= next) {
                /* the timeout, or leftovers holding the pipes: the whole group goes */
                if (!reaped && c->timed_out && kill_at && now >= kill_at)
                    *c->timed_out = true;
                kill(-pid, signals++ == 0 && !reaped ? SIGTERM : SIGKILL);
                kill_at = now + 2000;
                exited_at = 0;
                if (signals > 2)
                    break;
                continue;
            }
            wait_ms = 100;
        }
        int pr = poll(fds, 2, wait_ms);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pr == 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                c->on_data(c->ctx, i, NULL, 0);
            } else {
                c->on_data(c->ctx, i, chunk, (size_t)n);
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    while (pid > 0 && !reaped && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (pid > 0 && c->group)
        kill(-pid, SIGKILL); /* nothing of a gate outlives it */
    relay_child = 0;
    if (c->pass_signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
    }
    if (fork_errno || (got == (ssize_t)sizeof(exec_errno) && exec_errno))
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot run '%s': %s", c->argv[0],
                            strerror(fork_errno ? fork_errno : exec_errno));
    *status = st;
    return 0;
}

struct capture {
    struct strbuf *sinks[2];
    bool overflow;
};

static void capture_data(void *ctx, int stream, const char *data, size_t len)
{
    struct capture *cap = ctx;
    if (len && strbuf_add(cap->sinks[stream], data, len) < 0)
        cap->overflow = true;
}

int proc_capture(char *const *argv, char *const *extra_env, struct strbuf *out,
                 struct strbuf *errout, int *status, struct otap_err *err)
{
    struct capture cap = {{out, errout}, false};
    struct child c = {.argv = argv, .extra = extra_env, .on_data = capture_data, .ctx = &cap};
    int rc = run_child(&c, status, err);
    if (rc == 0 && cap.overflow)
        return otap_err_set(err, OTAP_EEXTERNAL, "'%s' wrote more than otap reads", argv[0]);
    return rc;
}

struct relay {
    struct strbuf pending[2];
    proc_line_fn on_line;
    void *ctx;
};

/* Hands every complete line in pending to on_line; at the end (flush) the rest too. */
static void emit_lines(struct relay *r, int stream, bool flush)
{
    struct strbuf *pending = &r->pending[stream];
    size_t start = 0;
    for (;;) {
        const char *nl = memchr(pending->buf + start, '\n', pending->len - start);
        if (!nl)
            break;
        size_t end = (size_t)(nl - pending->buf);
        r->on_line(r->ctx, stream == 1, pending->buf + start, end - start);
        start = end + 1;
    }
    /* a line without end is passed on in pieces rather than held without bound */
    if ((flush || pending->len - start > 65536) && start < pending->len) {
        r->on_line(r->ctx, stream == 1, pending->buf + start, pending->len - start);
        start = pending->len;
    }
    memmove(pending->buf, pending->buf + start, pending->len - start);
    strbuf_setlen(pending, pending->len - start);
}

static void relay_data(void *ctx, int stream, const char *data, size_t len)
{
    struct relay *r = ctx;
    if (len)
        strbuf_add(&r->pending[stream], data, len);
    emit_lines(r, stream, len == 0);
}

/* The relays share one body: a job (group) differs only in its process group and timeout. */
static int relay_run(char *const *argv, char *const *envp, const char *cwd, bool group,
                     long long timeout_ms, proc_line_fn on_line, void *ctx, int *status,
                     bool *timed_out, struct otap_err *err)
{
    struct relay r = {{STRBUF_INIT, STRBUF_INIT}, on_line, ctx};
    struct child c = {.argv = argv,
                      .envp = envp,
                      .cwd = cwd,
                      .pass_signals = true,
                      .group = group,
                      .timeout_ms = timeout_ms,
                      .timed_out = timed_out,
                      .on_data = relay_data,
                      .ctx = &r};
    int rc = run_child(&c, status, err);
    strbuf_release(&r.pending[0]);
    strbuf_release(&r.pending[1]);
    return rc;
}

int proc_relay(char *const *argv, char *const *envp, const char *cwd, proc_line_fn on_line,
               void *ctx, int *status, struct otap_err *err)
{
    return relay_run(argv, envp, cwd, false, 0, on_line, ctx, status, NULL, err);
}

int proc_relay_group(char *const *argv, char *const *envp, const char *cwd, long long timeout_ms,
                     proc_line_fn on_line, void *ctx, int *status, bool *timed_out,
                     struct otap_err *err)
{
    *timed_out = false;
    return relay_run(argv, envp, cwd, true, timeout_ms, on_line, ctx, status, timed_out, err);
}

char *proc_start_time(long long pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
    struct strbuf sb = STRBUF_INIT;
    char *out = NULL;
    if (strbuf_read_file(&sb, path, 4096) >= 0) {
        /* the command name may hold spaces and parentheses: count from the last ')' */
        char *p = strrchr(sb.buf, ')');
        for (int field = 2; p && field < 22; field++)
            p = strchr(p + 1, ' ');
        if (p)
            out = xstrndup(p + 1, strcspn(p + 1, " "));
    }
    strbuf_release(&sb);
    return out ? out : xstrdup("");
}

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
#include "base/xalloc.h"
#include "base/banned.h"

int proc_capture(char *const *argv, char *const *extra_env, struct strbuf *out,
                 struct strbuf *errout, int *status, struct otap_err *err)
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
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot run '%s': %s", argv[0], strerror(e));
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]), close(px[0]), close(px[1]);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot run '%s': %s", argv[0], strerror(e));
    }
    if (pid == 0) {
        for (char *const *e = extra_env; e && *e; e++)
            putenv(*e);
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], argv);
        int e = errno;
        /* tell the parent why exec failed through the close-on-exec pipe */
        (void)!write(px[1], &e, sizeof(e));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    close(px[1]);
    int exec_errno = 0;
    ssize_t got;
    do
        got = read(px[0], &exec_errno, sizeof(exec_errno));
    while (got < 0 && errno == EINTR);
    close(px[0]);

    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    struct strbuf *sinks[2] = {out, errout};
    bool overflow = false;
    int open_fds = 2;
    char chunk[65536];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
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
            } else if (strbuf_add(sinks[i], chunk, (size_t)n) < 0) {
                overflow = true;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (got == (ssize_t)sizeof(exec_errno) && exec_errno)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot run '%s': %s", argv[0],
                            strerror(exec_errno));
    if (overflow)
        return otap_err_set(err, OTAP_EEXTERNAL, "'%s' wrote more than otap reads", argv[0]);
    *status = st;
    return 0;
}

static volatile sig_atomic_t relay_child;

static void pass_on(int sig)
{
    if (relay_child > 0)
        kill((pid_t)relay_child, sig);
}

/* Hands every complete line in pending to on_line; at the end (flush) the rest too. */
static void emit_lines(struct strbuf *pending, bool from_stderr, bool flush, proc_line_fn on_line,
                       void *ctx)
{
    size_t start = 0;
    for (;;) {
        const char *nl = memchr(pending->buf + start, '\n', pending->len - start);
        if (!nl)
            break;
        size_t end = (size_t)(nl - pending->buf);
        on_line(ctx, from_stderr, pending->buf + start, end - start);
        start = end + 1;
    }
    /* a line without end is passed on in pieces rather than held without bound */
    if ((flush || pending->len - start > 65536) && start < pending->len) {
        on_line(ctx, from_stderr, pending->buf + start, pending->len - start);
        start = pending->len;
    }
    memmove(pending->buf, pending->buf + start, pending->len - start);
    strbuf_setlen(pending, pending->len - start);
}

int proc_relay(char *const *argv, char *const *envp, const char *cwd, proc_line_fn on_line,
               void *ctx, int *status, struct otap_err *err)
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
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot run '%s': %s", argv[0], strerror(e));
    }
    struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = pass_on}, old_int,
                     old_term, old_hup;
    sigemptyset(&ign.sa_mask);
    sigemptyset(&fwd.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGTERM, &fwd, &old_term);
    sigaction(SIGHUP, &fwd, &old_hup);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]), close(px[0]), close(px[1]);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot run '%s': %s", argv[0], strerror(e));
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        int e = 0;
        if (cwd && chdir(cwd) < 0)
            e = errno;
        else
            execvpe(argv[0], argv, envp);
        e = e ? e : errno;
        (void)!write(px[1], &e, sizeof(e));
        _exit(127);
    }
    relay_child = pid;
    close(po[1]);
    close(pe[1]);
    close(px[1]);
    int exec_errno = 0;
    ssize_t got;
    do
        got = read(px[0], &exec_errno, sizeof(exec_errno));
    while (got < 0 && errno == EINTR);
    close(px[0]);

    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    struct strbuf pending[2] = {STRBUF_INIT, STRBUF_INIT};
    int open_fds = 2;
    char chunk[65536];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
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
                emit_lines(&pending[i], i == 1, true, on_line, ctx);
            } else {
                strbuf_add(&pending[i], chunk, (size_t)n);
                emit_lines(&pending[i], i == 1, false, on_line, ctx);
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (fds[i].fd >= 0)
            close(fds[i].fd);
        strbuf_release(&pending[i]);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    relay_child = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    if (got == (ssize_t)sizeof(exec_errno) && exec_errno)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot run '%s': %s", argv[0],
                            strerror(exec_errno));
    *status = st;
    return 0;
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

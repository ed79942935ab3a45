/*
 * PostgreSQL's tools over a pipe (pgtool.h).
 */
#include "backup/pgtool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/redact.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/xalloc.h"
#include "base/banned.h"

extern char **environ;

/* The tool's path: PATH first, then Debian's newest server bin directory. */
static char *find_tool(const char *name)
{
    const char *path = getenv("PATH");
    char *copy = xstrdup(path ? path : "/usr/bin:/bin"), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char *p = xasprintf("%s/%s", *d ? d : ".", name);
        if (access(p, X_OK) == 0) {
            free(copy);
            return p;
        }
        free(p);
    }
    free(copy);
    DIR *dir = opendir("/usr/lib/postgresql");
    char *best = NULL;
    long best_v = -1;
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || v <= best_v)
            continue;
        char *p = xasprintf("/usr/lib/postgresql/%s/bin/%s", e->d_name, name);
        if (access(p, X_OK) == 0) {
            free(best);
            best = p;
            best_v = v;
        } else {
            free(p);
        }
    }
    if (dir)
        closedir(dir);
    return best;
}

bool pgtool_exists(const char *name)
{
    char *p = find_tool(name);
    free(p);
    return p != NULL;
}

int pgtool_start(struct pgtool *t, char *const *argv, char *const *extra_env, bool to_child,
                 struct otap_err *err)
{
    t->pid = -1;
    t->fd = -1;
    t->err_fd = -1;
    t->out_fd = -1;
    char *exe = find_tool(argv[0]);
    if (!exe)
        return otap_err_set(err, OTAP_EEXTERNAL, "%s is not installed (Debian: postgresql-client)",
                            argv[0]);
    char tmpl[] = "/tmp/otap-pgtool-XXXXXX";
    int ef = mkstemp(tmpl);
    if (ef < 0) {
        free(exe);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot make a temporary file: %s",
                            strerror(errno));
    }
    unlink(tmpl);
    int of = -1;
    if (to_child) {
        char tmpl2[] = "/tmp/otap-pgtool-XXXXXX";
        of = mkstemp(tmpl2);
        if (of < 0) {
            close(ef);
            free(exe);
            return otap_err_set(err, OTAP_EEXTERNAL, "cannot make a temporary file: %s",
                                strerror(errno));
        }
        unlink(tmpl2);
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        close(ef);
        if (of >= 0)
            close(of);
        free(exe);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot make a pipe: %s", strerror(errno));
    }
    /* the environment: the extra entries win over otap's own */
    struct strvec env = STRVEC_INIT;
    for (size_t i = 0; extra_env && extra_env[i]; i++)
        strvec_push(&env, extra_env[i]);
    for (char **e = environ; *e; e++) {
        size_t nl = strcspn(*e, "=");
        bool shadowed = false;
        for (size_t i = 0; extra_env && extra_env[i] && !shadowed; i++)
            shadowed = !strncmp(extra_env[i], *e, nl) && extra_env[i][nl] == '=';
        if (!shadowed)
            strvec_push(&env, *e);
    }
    char **envp = xcalloc(env.n + 1, sizeof(char *));
    memcpy(envp, env.items, env.n * sizeof(char *));
    /* a tool that stops reading is an answer (pg_restore --list), not a reason to die */
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0) {
        if (to_child) {
            dup2(p[0], 0);
            dup2(of, 1);
        } else {
            int devnull = open("/dev/null", O_RDONLY);
            dup2(devnull, 0);
            dup2(p[1], 1);
        }
        dup2(ef, 2);
        signal(SIGPIPE, SIG_DFL);
        execve(exe, argv, envp);
        _exit(127);
    }
    free(envp);
    strvec_release(&env);
    free(exe);
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        close(ef);
        if (of >= 0)
            close(of);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot start %s: %s", argv[0], strerror(errno));
    }
    t->pid = pid;
    t->err_fd = ef;
    t->out_fd = of;
    if (to_child) {
        close(p[0]);
        t->fd = p[1];
    } else {
        close(p[1]);
        t->fd = p[0];
    }
    return 0;
}

int pgtool_write(struct pgtool *t, const void *data, size_t len)
{
    const char *d = data;
    while (len) {
        ssize_t n = write(t->fd, d, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        d += n;
        len -= (size_t)n;
    }
    return 0;
}

static char *stderr_text(struct pgtool *t)
{
    char buf[4096];
    ssize_t n = pread(t->err_fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == '\n' || buf[l - 1] == ' '))
        buf[--l] = '\0';
    for (char *c = buf; *c; c++)
        if (*c == '\n')
            *c = ' ';
    return redact_text(l ? buf : "no message");
}

int pgtool_wait(struct pgtool *t, const char *what, struct otap_err *err)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    int status = 0;
    while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR) {
    }
    t->pid = -1;
    int rc = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        char *m = stderr_text(t);
        rc = otap_err_set(err, OTAP_EEXTERNAL, "%s failed (%s %d): %s", what,
                          WIFEXITED(status) ? "exit" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), m);
        free(m);
    }
    close(t->err_fd);
    t->err_fd = -1;
    return rc;
}

char *pgtool_stdout(struct pgtool *t)
{
    struct strbuf sb = STRBUF_INIT;
    char buf[65536];
    off_t off = 0;
    ssize_t n;
    while (t->out_fd >= 0 && (n = pread(t->out_fd, buf, sizeof buf, off)) > 0) {
        strbuf_add(&sb, buf, (size_t)n);
        off += n;
    }
    if (t->out_fd >= 0)
        close(t->out_fd);
    t->out_fd = -1;
    strbuf_addstr(&sb, "");
    return strbuf_detach(&sb, NULL);
}

void pgtool_kill(struct pgtool *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    if (t->pid > 0) {
        kill(t->pid, SIGKILL);
        while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    t->pid = -1;
    if (t->err_fd >= 0)
        close(t->err_fd);
    t->err_fd = -1;
    if (t->out_fd >= 0)
        close(t->out_fd);
    t->out_fd = -1;
}

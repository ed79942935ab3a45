/*
 * The built-in PostgreSQL of a stack (pgkind.h), from Debian's
 * postgresql package: the newest /usr/lib/postgresql/N/bin.
 */
#include "stack/pgkind.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/num.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* The bin directory of the newest PostgreSQL installed, or NULL. */
static char *pg_bin(void)
{
    DIR *d = opendir("/usr/lib/postgresql");
    if (!d)
        return NULL;
    long long best = -1, v;
    struct dirent *e;
    while ((e = readdir(d)))
        if (num_parse_ll(e->d_name, &v) == 0 && v > best)
            best = v;
    closedir(d);
    if (best < 0)
        return NULL;
    char *bin = xasprintf("/usr/lib/postgresql/%lld/bin", best);
    char *initdb = xasprintf("%s/initdb", bin);
    bool ok = access(initdb, X_OK) == 0;
    free(initdb);
    if (!ok) {
        free(bin);
        return NULL;
    }
    return bin;
}

/* The user and database of the contract's URL for this stack; defaults when absent. */
static void url_parts(char **envp, const struct manifest *m, char **user, char **db)
{
    *user = xstrdup("postgres");
    *db = xstrdup("postgres");
    const char *var = m->database.url_var;
    const char *url = NULL;
    size_t vl = var ? strlen(var) : 0;
    for (char **e = envp; var && e && *e; e++)
        if (!strncmp(*e, var, vl) && (*e)[vl] == '=')
            url = *e + vl + 1;
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p)
        return;
    p += 3;
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (at && (!slash || at < slash)) {
        size_t n = strcspn(p, ":@");
        free(*user);
        *user = xstrndup(p, n);
    }
    if (slash && slash[1]) {
        free(*db);
        *db = xstrndup(slash + 1, strcspn(slash + 1, "?"));
    }
}

static bool as_root(void)
{
    return geteuid() == 0;
}

/* argv run as the postgres user when we are root. */
static char **command(char *const *argv)
{
    size_t n = 0;
    while (argv[n])
        n++;
    char **out = xcalloc(n + 5, sizeof(*out));
    size_t k = 0;
    if (as_root()) {
        out[k++] = xstrdup("/usr/sbin/runuser");
        out[k++] = xstrdup("-u");
        out[k++] = xstrdup("postgres");
        out[k++] = xstrdup("--");
    }
    for (size_t i = 0; i < n; i++)
        out[k++] = xstrdup(argv[i]);
    return out;
}

static void free_argv(char **a)
{
    for (char **p = a; p && *p; p++)
        free(*p);
    free(a);
}

/* Runs argv (a PostgreSQL tool); NULL, or its error output. */
static char *run_tool(char **argv)
{
    struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
    strbuf_init(&out, 1 << 20);
    strbuf_init(&errout, 1 << 20);
    int status = 0;
    struct otap_err err = OTAP_ERR_INIT;
    char *why = NULL;
    if (proc_capture(argv, NULL, &out, &errout, &status, &err) < 0)
        why = xstrdup(err.msg);
    else if (!WIFEXITED(status) || WEXITSTATUS(status))
        why = xasprintf("%s failed: %.300s", argv[as_root() ? 4 : 0],
                        errout.len ? errout.buf : out.buf);
    otap_err_release(&err);
    strbuf_release(&out);
    strbuf_release(&errout);
    return why;
}

static char *data_dir(const struct manifest *m, const struct manifest_service *s)
{
    return xasprintf("%s/.otap/data/%s", m->dir, s->name);
}

char **pgkind_argv(const struct manifest *m, const struct manifest_service *s, char **envp,
                   char **why)
{
    *why = NULL;
    char *bin = pg_bin();
    if (!bin) {
        *why = xstrdup("no PostgreSQL server is installed (Debian: apt-get install postgresql)");
        return NULL;
    }
    char *dir = data_dir(m, s), *version = xasprintf("%s/PG_VERSION", dir);
    char **argv = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if (access(version, F_OK) != 0) {
        /* first start: a cluster owned by whoever runs the server */
        if (fileio_mkdirs(dir, dir, &err) < 0) {
            *why = xstrdup(err.msg);
            goto out;
        }
        chmod(dir, 0700);
        if (as_root()) {
            struct passwd *pw = getpwnam("postgres");
            if (!pw || chown(dir, pw->pw_uid, pw->pw_gid) < 0) {
                *why = xstrdup("as root, PostgreSQL runs as the user 'postgres', which is missing");
                goto out;
            }
            /* the postgres user must reach the directory through every parent */
            char *raw[] = {"test", "-w", dir, NULL};
            char **cmd = command(raw);
            char *cannot = run_tool(cmd);
            free_argv(cmd);
            if (cannot) {
                free(cannot);
                *why = xasprintf("as root, PostgreSQL runs as the user 'postgres', who cannot "
                                 "reach '%s' (a parent directory is private)",
                                 dir);
                goto out;
            }
        }
        char *user, *db;
        url_parts(envp, m, &user, &db);
        free(db);
        char *initdb = xasprintf("%s/initdb", bin), *uopt = xasprintf("--username=%s", user);
        char *raw[] = {initdb, "-D", dir, uopt, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
                       NULL};
        char **cmd = command(raw);
        *why = run_tool(cmd);
        free_argv(cmd);
        free(initdb);
        free(uopt);
        free(user);
        if (*why)
            goto out;
    }
    char *postgres = xasprintf("%s/postgres", bin), *port = xasprintf("%d", s->port);
    char *raw[] = {postgres, "-D", dir, "-p", port, "-k", dir, "-c", "listen_addresses=127.0.0.1",
                   NULL};
    argv = command(raw);
    free(postgres);
    free(port);
out:
    otap_err_release(&err);
    free(version);
    free(dir);
    free(bin);
    return argv;
}

char *pgkind_prepare(const struct manifest *m, const struct manifest_service *s, const char *env,
                     const char *otap, char **envp)
{
    char *bin = pg_bin();
    char *user, *db;
    url_parts(envp, m, &user, &db);
    char *why = NULL;
    if (strcmp(db, "postgres")) {
        char *createdb = xasprintf("%s/createdb", bin), *port = xasprintf("%d", s->port);
        char *raw[] = {createdb, "-h", "127.0.0.1", "-p", port, "-U", user, db, NULL};
        char **cmd = command(raw);
        why = run_tool(cmd);
        if (why && strstr(why, "already exists")) {
            free(why);
            why = NULL;
        }
        free_argv(cmd);
        free(createdb);
        free(port);
    }
    if (!why && m->database.url_var && otap) {
        /* the environment's migrations, through the same checks as ever */
        char *argv[] = {(char *)otap, "db", "migrate", "--env", (char *)env, NULL};
        struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
        strbuf_init(&out, 1 << 20);
        strbuf_init(&errout, 1 << 20);
        int status = 0;
        struct otap_err err = OTAP_ERR_INIT;
        if (proc_capture(argv, envp, &out, &errout, &status, &err) < 0)
            why = xstrdup(err.msg);
        else if (!WIFEXITED(status) || WEXITSTATUS(status))
            why = xasprintf("migrations failed: %.400s", errout.len ? errout.buf : out.buf);
        otap_err_release(&err);
        strbuf_release(&out);
        strbuf_release(&errout);
    }
    free(user);
    free(db);
    free(bin);
    return why;
}

bool pgkind_ready(const struct manifest_service *s)
{
    /* the port answers before the server accepts connections (recovery, start-up): ask it */
    char *bin = pg_bin();
    if (!bin)
        return false;
    char *tool = xasprintf("%s/pg_isready", bin), *port = xasprintf("%d", s->port);
    char *argv[] = {tool, "-q", "-h", "127.0.0.1", "-p", port, "-t", "1", NULL};
    struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
    strbuf_init(&out, 65536);
    strbuf_init(&errout, 65536);
    int status = 0;
    struct otap_err err = OTAP_ERR_INIT;
    bool ok = proc_capture(argv, NULL, &out, &errout, &status, &err) == 0 && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0;
    otap_err_release(&err);
    strbuf_release(&out);
    strbuf_release(&errout);
    free(tool);
    free(port);
    free(bin);
    return ok;
}

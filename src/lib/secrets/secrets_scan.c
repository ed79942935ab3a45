/*
 * Scan targets and the worker threads that scan them (secrets_scan.h).
 */
#include "secrets/secrets_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* git's binary test looks this far */
#define BINARY_PROBE 8000
/* smaller files are read into a buffer; mmap costs more than it saves */
#define READ_MAX (1u << 20)

static size_t add_source(struct secrets_run *run, char *path, int commit)
{
    *XPUSH(&run->sources, &run->nsources, &run->sources_alloc) =
        (struct secrets_source){path, NULL, commit};
    return run->nsources - 1;
}

static void add_error(struct secrets_run *run, const char *path, const char *why)
{
    *XPUSH(&run->errors, &run->nerrors, &run->errors_alloc) = xasprintf("%s: %s", path, why);
}

static int ncores(const struct secrets_run *run)
{
    if (run->threads > 0)
        return run->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 16 ? 16 : (int)n;
}

/* ---- the worker pool ---------------------------------------------------- */

struct job {
    size_t source;
    git_oid oid; /* for blobs */
};

struct pool;

struct worker {
    struct pool *pool;
    struct secrets_worker sw;
    struct secret_findings found;
    struct secrets_counts counts;
    uint64_t scanned, skipped_binary, skipped_large;
    char **errors;
    size_t nerrors, errors_alloc;
    git_repository *repo;
    char *buf;
    size_t buf_alloc;
    int rc;
};

struct pool {
    struct secrets_run *run;
    const struct job *jobs;
    size_t njobs;
    atomic_size_t next;
    const char *repo_path; /* blobs: each worker opens the repository itself */
};

static void worker_error(struct worker *w, const char *path, const char *fmt, const char *detail)
{
    *XPUSH(&w->errors, &w->nerrors, &w->errors_alloc) = xasprintf("%s: %s%s", path, fmt, detail);
}

static bool is_binary(const char *buf, size_t len)
{
    return memchr(buf, '\0', len < BINARY_PROBE ? len : BINARY_PROBE) != NULL;
}

static void scan_one(struct worker *w, const struct job *j, const char *buf, size_t len)
{
    const struct secrets_source *src = &w->pool->run->sources[j->source];
    if (is_binary(buf, len)) {
        w->skipped_binary++;
        return;
    }
    w->scanned++;
    const char *key = src->key_path ? src->key_path : src->path;
    if (secrets_scan_buffer(&w->sw, key, j->source, buf, len, &w->found, &w->counts) < 0)
        worker_error(w, src->path, "the scanner failed", "");
}

static void scan_file(struct worker *w, const struct job *j)
{
    const struct secrets_run *run = w->pool->run;
    const char *path = run->sources[j->source].path;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        worker_error(w, path, "cannot open: ", strerror(errno));
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    size_t size = (size_t)st.st_size;
    if (st.st_size > run->max_size) {
        w->skipped_large++;
        close(fd);
        return;
    }
    if (size <= READ_MAX) {
        if (size > w->buf_alloc) {
            free(w->buf);
            w->buf_alloc = size > 65536 ? size : 65536;
            w->buf = xmalloc(w->buf_alloc);
        }
        size_t got = 0;
        while (got < size) {
            ssize_t r = read(fd, w->buf + got, size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        close(fd);
        scan_one(w, j, w->buf ? w->buf : "", got);
        return;
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        worker_error(w, path, "cannot map: ", strerror(errno));
        return;
    }
    madvise(map, size, MADV_SEQUENTIAL);
    scan_one(w, j, map, size);
    munmap(map, size);
}

static void scan_blob(struct worker *w, const struct job *j)
{
    const struct secrets_run *run = w->pool->run;
    const char *path = run->sources[j->source].path;
    git_blob *blob = NULL;
    if (git_blob_lookup(&blob, w->repo, &j->oid) < 0) {
        const git_error *e = git_error_last();
        worker_error(w, path, "cannot read blob: ", e ? e->message : "unknown error");
        return;
    }
    git_object_size_t size = git_blob_rawsize(blob);
    if ((long long)size > run->max_size)
        w->skipped_large++;
    else
        scan_one(w, j, git_blob_rawcontent(blob), (size_t)size);
    git_blob_free(blob);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->pool;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->njobs)
            break;
        if (p->repo_path)
            scan_blob(w, &p->jobs[i]);
        else
            scan_file(w, &p->jobs[i]);
    }
    return NULL;
}

static int by_location(const void *a, const void *b, void *ctx)
{
    const struct secrets_run *run = ctx;
    const struct secret_finding *x = a, *y = b;
    int c = strcmp(run->sources[x->source].path, run->sources[y->source].path);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return strcmp(run->engine->rules[x->rule].id, run->engine->rules[y->rule].id);
}

static int run_pool(struct secrets_run *run, const struct job *jobs, size_t njobs,
                    const char *repo_path, struct otap_err *err)
{
    struct pool pool = {.run = run, .jobs = jobs, .njobs = njobs, .repo_path = repo_path};
    atomic_init(&pool.next, 0);
    int n = ncores(run);
    if ((size_t)n > njobs)
        n = njobs ? (int)njobs : 1;
    struct worker *ws = xcalloc((size_t)n, sizeof(*ws));
    pthread_t *tids = xcalloc((size_t)n, sizeof(*tids));
    int rc = 0, started = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        ws[i].pool = &pool;
        rc = secrets_worker_init(&ws[i].sw, run->engine, err);
        if (rc == 0 && repo_path && git_repository_open(&ws[i].repo, repo_path) < 0) {
            const git_error *e = git_error_last();
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot open the repository: %s",
                              e ? e->message : "unknown error");
        }
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (pthread_create(&tids[i], NULL, work, &ws[i]) != 0) {
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot start a scanning thread");
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    for (int i = 0; i < n; i++) {
        struct worker *w = &ws[i];
        for (size_t k = 0; k < w->found.n; k++)
            *XPUSH(&run->findings.items, &run->findings.n, &run->findings.alloc) =
                w->found.items[k];
        free(w->found.items);
        for (size_t k = 0; k < w->nerrors; k++)
            *XPUSH(&run->errors, &run->nerrors, &run->errors_alloc) = w->errors[k];
        free(w->errors);
        run->scanned += w->scanned;
        run->bytes += w->counts.bytes;
        run->inline_allowed += w->counts.inline_allowed;
        run->skipped_binary += w->skipped_binary;
        run->skipped_large += w->skipped_large;
        if (w->sw.e)
            secrets_worker_release(&w->sw);
        git_repository_free(w->repo);
        free(w->buf);
    }
    free(ws);
    free(tids);
    if (run->findings.n)
        qsort_r(run->findings.items, run->findings.n, sizeof(run->findings.items[0]), by_location,
                run);
    return rc;
}

/* ---- working trees ------------------------------------------------------ */

struct walk {
    struct secrets_run *run;
    git_repository *repo; /* NULL: outside a repository, or ignores off */
    const char *root_rel; /* the walked directory relative to the repository, or NULL */
    struct job *jobs;
    size_t njobs, jobs_alloc;
};

static bool ignored(struct walk *wk, const char *rel, bool dir)
{
    if (!wk->repo || !rel)
        return false;
    int ign = 0;
    char *p = dir ? xasprintf("%s/", rel) : (char *)rel;
    if (git_ignore_path_is_ignored(&ign, wk->repo, p) < 0)
        ign = 0;
    if (dir)
        free(p);
    return ign == 1;
}

/* path as shown; grel relative to the repository, or NULL outside one */
static void add_file(struct walk *wk, char *path, const char *grel)
{
    struct secrets_run *run = wk->run;
    if (secrets_path_allowed(run->engine, path)) {
        run->skipped_path++;
        free(path);
        return;
    }
    size_t s = add_source(run, path, -1);
    run->sources[s].key_path = grel ? xstrdup(grel) : NULL;
    *XPUSH(&wk->jobs, &wk->njobs, &wk->jobs_alloc) = (struct job){.source = s};
}

/* The walk's rel is relative to the scanned directory; git wants it relative to the repository. */
static int walk_visit(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    struct walk *wk = ctx;
    const char *name = strrchr(rel, '/');
    name = name ? name + 1 : rel;
    if (!strcmp(name, ".git"))
        return FILEIO_WALK_PRUNE;
    char *grel = !wk->root_rel   ? NULL
                 : *wk->root_rel ? xasprintf("%s/%s", wk->root_rel, rel)
                                 : xstrdup(rel);
    int rc = 0;
    if (S_ISDIR(st->st_mode))
        rc = ignored(wk, grel, true) ? FILEIO_WALK_PRUNE : 0;
    else if (S_ISREG(st->st_mode) && !ignored(wk, grel, false))
        add_file(wk, xstrdup(path), grel);
    /* symlinks, devices, sockets: not followed, not read */
    free(grel);
    return rc;
}

static void walk_error(void *ctx, const char *path, int errnum)
{
    struct walk *wk = ctx;
    add_error(wk->run, path, strerror(errnum));
}

/* The path of abs relative to the repository's working directory, or NULL. */
static char *repo_relative(git_repository *repo, const char *path)
{
    const char *wd = git_repository_workdir(repo);
    char *abs = realpath(path, NULL);
    if (!wd || !abs) {
        free(abs);
        return NULL;
    }
    size_t n = strlen(wd);
    char *rel = NULL;
    if (!strncmp(abs, wd, n))
        rel = xstrdup(abs + n);
    else if (n && !strncmp(abs, wd, n - 1) && abs[n - 1] == '\0')
        rel = xstrdup("");
    free(abs);
    return rel;
}

int secrets_scan_paths(struct secrets_run *run, char *const *paths, size_t n, struct otap_err *err)
{
    static char *const dot[] = {"."};
    if (!n) {
        paths = dot;
        n = 1;
    }
    git_libgit2_init();
    struct walk wk = {.run = run};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *p = paths[i];
        struct stat st;
        if (stat(p, &st) < 0) {
            rc = otap_err_set(err, OTAP_EUSAGE, "cannot scan '%s': %s", p, strerror(errno));
            break;
        }
        if (!run->no_ignore && !wk.repo)
            git_repository_open_ext(&wk.repo, S_ISDIR(st.st_mode) ? p : ".", 0, NULL);
        char *rel = wk.repo ? repo_relative(wk.repo, p) : NULL;
        /* strip "./" so paths read as git shows them */
        const char *shown = p;
        while (shown[0] == '.' && shown[1] == '/' && shown[2])
            shown += 2;
        if (S_ISDIR(st.st_mode)) {
            wk.root_rel = rel;
            struct fileio_walk fw = {.visit = walk_visit, .error = walk_error, .ctx = &wk};
            fileio_walk(shown, &fw, err); /* problems are the run's errors, never fatal */
        } else if (S_ISREG(st.st_mode) && !ignored(&wk, rel, false))
            add_file(&wk, xstrdup(shown), rel);
        free(rel);
    }
    git_repository_free(wk.repo);
    if (rc == 0)
        rc = run_pool(run, wk.jobs, wk.njobs, NULL, err);
    free(wk.jobs);
    git_libgit2_shutdown();
    return rc;
}

/* ---- git history -------------------------------------------------------- */

/* A set of object ids: open addressing on the id's first bytes. */
struct oidset {
    git_oid *slots;
    unsigned char *used;
    size_t cap, n;
};

static size_t oid_hash(const git_oid *id)
{
    size_t h;
    memcpy(&h, id->id, sizeof h);
    return h;
}

static bool oidset_add(struct oidset *s, const git_oid *id);

static void oidset_grow(struct oidset *s)
{
    struct oidset old = *s;
    s->cap = old.cap ? old.cap * 2 : 1024;
    s->slots = xcalloc(s->cap, sizeof(git_oid));
    s->used = xcalloc(s->cap, 1);
    s->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.used[i])
            oidset_add(s, &old.slots[i]);
    free(old.slots);
    free(old.used);
}

/* Adds id; false when it was there already. */
static bool oidset_add(struct oidset *s, const git_oid *id)
{
    if ((s->n + 1) * 2 > s->cap)
        oidset_grow(s);
    size_t i = oid_hash(id) & (s->cap - 1);
    while (s->used[i]) {
        if (!git_oid_cmp(&s->slots[i], id))
            return false;
        i = (i + 1) & (s->cap - 1);
    }
    s->used[i] = 1;
    s->slots[i] = *id;
    s->n++;
    return true;
}

static void oidset_release(struct oidset *s)
{
    free(s->slots);
    free(s->used);
}

struct history {
    struct secrets_run *run;
    git_repository *repo;
    struct oidset trees, blobs;
    struct job *jobs;
    size_t njobs, jobs_alloc;
    int commit; /* index of the commit being walked, or -1 before it is recorded */
    const git_commit *current;
    bool seeding; /* marking what --since says was scanned already */
};

static int record_commit(struct history *h)
{
    if (h->commit >= 0)
        return h->commit;
    struct secrets_run *run = h->run;
    const git_signature *a = git_commit_author(h->current);
    struct secrets_commit c = {
        .author = xstrdup(a && a->name ? a->name : ""),
        .email = xstrdup(a && a->email ? a->email : ""),
        .time = a ? (long long)a->when.time : 0,
        .tz_minutes = a ? a->when.offset : 0,
    };
    git_oid_tostr(c.id, sizeof c.id, git_commit_id(h->current));
    *XPUSH(&run->commits, &run->ncommits, &run->commits_alloc) = c;
    h->commit = (int)run->ncommits - 1;
    return h->commit;
}

static int walk_tree(struct history *h, const git_tree *tree, const char *prefix, int depth)
{
    if (depth > 256)
        return 0;
    size_t n = git_tree_entrycount(tree);
    for (size_t i = 0; i < n; i++) {
        const git_tree_entry *te = git_tree_entry_byindex(tree, i);
        const git_oid *id = git_tree_entry_id(te);
        git_filemode_t mode = git_tree_entry_filemode(te);
        const char *name = git_tree_entry_name(te);
        if (mode == GIT_FILEMODE_TREE) {
            if (!oidset_add(&h->trees, id))
                continue; /* everything below was met in an older commit */
            git_tree *sub = NULL;
            if (git_tree_lookup(&sub, h->repo, id) < 0)
                return -1;
            char *path = prefix ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
            int rc = walk_tree(h, sub, path, depth + 1);
            free(path);
            git_tree_free(sub);
            if (rc < 0)
                return rc;
        } else if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
            if (!oidset_add(&h->blobs, id) || h->seeding)
                continue;
            char *path = prefix ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
            if (secrets_path_allowed(h->run->engine, path)) {
                h->run->skipped_path++;
                free(path);
                continue;
            }
            size_t s = add_source(h->run, path, record_commit(h));
            *XPUSH(&h->jobs, &h->njobs, &h->jobs_alloc) = (struct job){.source = s, .oid = *id};
        }
        /* links and submodules hold no content of this repository */
    }
    return 0;
}

static int git_fail(struct otap_err *err, const char *what)
{
    const git_error *e = git_error_last();
    return otap_err_set(err, OTAP_EEXTERNAL, "%s: %s", what, e ? e->message : "unknown error");
}

static int open_repo(git_repository **repo, const char *dir, struct otap_err *err)
{
    if (git_repository_open_ext(repo, dir, 0, NULL) < 0) {
        const git_error *e = git_error_last();
        return otap_err_set(err, OTAP_EUSAGE, "'%s' is not in a git repository%s%s", dir,
                            e ? ": " : "", e ? e->message : "");
    }
    return 0;
}

/* The oldest first: commits are recorded in the walk's order, oldest first. */
static int by_secret_then_age(const void *a, const void *b, void *ctx)
{
    const struct secrets_run *run = ctx;
    const struct secret_finding *x = &run->findings.items[*(const size_t *)a];
    const struct secret_finding *y = &run->findings.items[*(const size_t *)b];
    int c = strcmp(x->secret_key, y->secret_key);
    if (c)
        return c;
    int cx = run->sources[x->source].commit, cy = run->sources[y->source].commit;
    if (cx != cy)
        return cx < cy ? -1 : 1;
    c = strcmp(run->sources[x->source].path, run->sources[y->source].path);
    return c ? c : x->line - y->line;
}

/*
 * Every blob that still carries a secret is a finding of its own; a
 * history holds one secret in as many blobs as its file had edits. Keeps
 * each secret once, where it first appeared, counting the rest.
 */
static void once_per_secret(struct secrets_run *run)
{
    size_t n = run->findings.n;
    if (n < 2)
        return;
    size_t *order = xmalloc(n * sizeof(size_t));
    bool *drop = xcalloc(n, sizeof(bool));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof(size_t), by_secret_then_age, run);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        struct secret_finding *first = &run->findings.items[order[i]];
        while (j < n && !strcmp(run->findings.items[order[j]].secret_key, first->secret_key))
            drop[order[j++]] = true;
        first->occurrences = j - i;
        i = j;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop[i]) {
            free(run->findings.items[i].excerpt);
            continue;
        }
        run->findings.items[k++] = run->findings.items[i];
    }
    run->findings.n = k;
    free(drop);
    free(order);
}

int secrets_scan_git(struct secrets_run *run, const char *dir, const char *since,
                     struct otap_err *err)
{
    git_libgit2_init();
    struct history h = {.run = run, .commit = -1};
    git_revwalk *walk = NULL;
    int rc = open_repo(&h.repo, dir, err);
    if (rc < 0)
        goto out;
    if (git_revwalk_new(&walk, h.repo) < 0) {
        rc = git_fail(err, "cannot walk the history");
        goto out;
    }
    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
    /* every branch, tag and remote branch, and HEAD even when detached */
    if (git_revwalk_push_glob(walk, "*") < 0) {
        rc = git_fail(err, "cannot list the references");
        goto out;
    }
    git_revwalk_push_head(walk); /* fails only in an empty repository */
    if (since) {
        git_object *obj = NULL;
        if (git_revparse_single(&obj, h.repo, since) < 0) {
            rc = otap_err_set(err, OTAP_EUSAGE, "--since: '%s' is not a revision here", since);
            goto out;
        }
        git_commit *base = NULL;
        if (git_object_peel((git_object **)&base, obj, GIT_OBJECT_COMMIT) < 0) {
            git_object_free(obj);
            rc = otap_err_set(err, OTAP_EUSAGE, "--since: '%s' does not name a commit", since);
            goto out;
        }
        git_object_free(obj);
        git_revwalk_hide(walk, git_commit_id(base));
        /* what the base's tree holds was scanned when the base was */
        git_tree *tree = NULL;
        if (git_commit_tree(&tree, base) == 0) {
            h.seeding = true;
            walk_tree(&h, tree, NULL, 0);
            h.seeding = false;
            git_tree_free(tree);
        }
        git_commit_free(base);
    }
    git_oid oid;
    int next;
    while ((next = git_revwalk_next(&oid, walk)) == 0) {
        git_commit *commit = NULL;
        git_tree *tree = NULL;
        if (git_commit_lookup(&commit, h.repo, &oid) < 0 || git_commit_tree(&tree, commit) < 0) {
            git_commit_free(commit);
            rc = git_fail(err, "cannot read a commit");
            goto out;
        }
        h.commit = -1;
        h.current = commit;
        if (oidset_add(&h.trees, git_tree_id(tree)) && walk_tree(&h, tree, NULL, 0) < 0)
            rc = git_fail(err, "cannot read a tree");
        git_tree_free(tree);
        git_commit_free(commit);
        if (rc < 0)
            goto out;
    }
    if (next != GIT_ITEROVER) {
        rc = git_fail(err, "cannot walk the history");
        goto out;
    }
    const char *gitdir = git_repository_path(h.repo);
    rc = run_pool(run, h.jobs, h.njobs, gitdir, err);
    if (rc == 0)
        once_per_secret(run);
out:
    git_revwalk_free(walk);
    git_repository_free(h.repo);
    oidset_release(&h.trees);
    oidset_release(&h.blobs);
    free(h.jobs);
    git_libgit2_shutdown();
    return rc;
}

/* ---- staged changes ----------------------------------------------------- */

int secrets_scan_staged(struct secrets_run *run, const char *dir, struct otap_err *err)
{
    git_libgit2_init();
    git_repository *repo = NULL;
    git_index *index = NULL;
    git_tree *head = NULL;
    struct job *jobs = NULL;
    size_t njobs = 0, alloc = 0;
    int rc = open_repo(&repo, dir, err);
    if (rc < 0)
        goto out;
    if (git_repository_index(&index, repo) < 0) {
        rc = git_fail(err, "cannot read the index");
        goto out;
    }
    git_object *obj = NULL;
    if (git_revparse_single(&obj, repo, "HEAD^{tree}") == 0)
        head = (git_tree *)obj; /* none before the first commit: all is new */
    size_t count = git_index_entrycount(index);
    for (size_t i = 0; i < count; i++) {
        const git_index_entry *e = git_index_get_byindex(index, i);
        if (GIT_INDEX_ENTRY_STAGE(e) != 0 ||
            (e->mode != GIT_FILEMODE_BLOB && e->mode != GIT_FILEMODE_BLOB_EXECUTABLE))
            continue;
        git_tree_entry *te = NULL;
        bool same = false;
        if (head && git_tree_entry_bypath(&te, head, e->path) == 0) {
            same = !git_oid_cmp(git_tree_entry_id(te), &e->id);
            git_tree_entry_free(te);
        }
        if (same)
            continue;
        if (secrets_path_allowed(run->engine, e->path)) {
            run->skipped_path++;
            continue;
        }
        size_t s = add_source(run, xstrdup(e->path), -1);
        *XPUSH(&jobs, &njobs, &alloc) = (struct job){.source = s, .oid = e->id};
    }
    rc = run_pool(run, jobs, njobs, git_repository_path(repo), err);
out:
    free(jobs);
    git_tree_free(head);
    git_index_free(index);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}

/* ---- streams ------------------------------------------------------------ */

int secrets_scan_fd(struct secrets_run *run, int fd, const char *name, struct otap_err *err)
{
    struct strbuf sb = STRBUF_INIT;
    char chunk[65536];
    bool large = false;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            strbuf_release(&sb);
            return otap_err_set(err, OTAP_EEXTERNAL, "cannot read %s: %s", name, strerror(errno));
        }
        if (r == 0)
            break;
        if ((long long)(sb.len + (size_t)r) > run->max_size)
            large = true; /* keep draining, so the writer does not see EPIPE */
        else
            strbuf_add(&sb, chunk, (size_t)r);
    }
    size_t s = add_source(run, xstrdup(name), -1);
    int rc = 0;
    if (large) {
        run->skipped_large++;
    } else if (is_binary(sb.buf ? sb.buf : "", sb.len)) {
        run->skipped_binary++;
    } else {
        struct secrets_worker w;
        struct secrets_counts counts = {0};
        rc = secrets_worker_init(&w, run->engine, err);
        if (rc == 0) {
            run->scanned++;
            if (secrets_scan_buffer(&w, name, s, sb.buf ? sb.buf : "", sb.len, &run->findings,
                                    &counts) < 0)
                rc = otap_err_set(err, OTAP_EEXTERNAL, "the scanner failed on %s", name);
            secrets_worker_release(&w);
        }
        run->bytes += counts.bytes;
        run->inline_allowed += counts.inline_allowed;
    }
    strbuf_release(&sb);
    return rc;
}

void secrets_run_release(struct secrets_run *run)
{
    for (size_t i = 0; i < run->nsources; i++) {
        free(run->sources[i].path);
        free(run->sources[i].key_path);
    }
    free(run->sources);
    for (size_t i = 0; i < run->ncommits; i++) {
        free(run->commits[i].author);
        free(run->commits[i].email);
    }
    free(run->commits);
    secret_findings_release(&run->findings);
    xfree_strv(run->errors, run->nerrors);
    run->sources = NULL;
    run->commits = NULL;
    run->errors = NULL;
    run->nsources = run->ncommits = run->nerrors = 0;
}

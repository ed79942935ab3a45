/*
 * The commits between two revisions (vcs_log.h), with libgit2's revwalk:
 * push the tip, hide the base, walk in reverse topological order.
 *
 * The whole history newest first (a changelog of everything) has its own
 * walk: libgit2's revwalk inflates each commit to find its parents and
 * git_commit_lookup() inflates it again for the message, which costs half
 * the time, or a large object cache. Here each commit is read once, into a
 * queue ordered by committer time as git log orders it.
 */
#include "vcs/vcs_log.h"

#include <git2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "vcs/vcs_impl.h"
#include "base/banned.h"

int vcs_each_commit(const char *dir, const char *from, const char *to, vcs_commit_fn fn, void *ctx,
                    struct otap_err *err)
{
    return vcs_each_commit_ordered(dir, from, to, false, fn, ctx, err);
}

/* ---- the whole history, newest first, each commit read once ---------------- */

struct queued {
    git_odb_object *obj;
    long long time;
    uint64_t seq; /* the order commits were found in: equal times keep it */
    git_oid oid;
};

struct walk {
    git_odb *odb;
    struct queued *heap;
    size_t n, alloc;
    uint64_t seq;
    git_oid *seen; /* open addressing; a zero oid is an empty slot */
    size_t seen_cap, seen_n;
};

static bool newer(const struct queued *a, const struct queued *b)
{
    return a->time != b->time ? a->time > b->time : a->seq < b->seq;
}

static size_t oid_slot(const struct walk *w, const git_oid *id)
{
    uint64_t h;
    memcpy(&h, id->id, sizeof h);
    return (size_t)h & (w->seen_cap - 1);
}

/* Marks id seen; false when it was already. */
static bool see(struct walk *w, const git_oid *id)
{
    if ((w->seen_n + 1) * 2 > w->seen_cap) {
        size_t old_cap = w->seen_cap;
        git_oid *old = w->seen;
        w->seen_cap = old_cap ? old_cap * 2 : 1024;
        w->seen = xcalloc(w->seen_cap, sizeof(*w->seen));
        w->seen_n = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (!git_oid_is_zero(&old[i]))
                see(w, &old[i]);
        free(old);
    }
    for (size_t i = oid_slot(w, id);; i = (i + 1) & (w->seen_cap - 1)) {
        if (git_oid_is_zero(&w->seen[i])) {
            git_oid_cpy(&w->seen[i], id);
            w->seen_n++;
            return true;
        }
        if (git_oid_equal(&w->seen[i], id))
            return false;
    }
}

/* The committer's time in a raw commit's headers, or 0. */
static long long committer_time(const char *d, size_t n)
{
    for (size_t at = 0; at < n;) {
        const char *nl = memchr(d + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - d) : n;
        if (end == at)
            break; /* the headers end */
        if (end - at > 10 && !memcmp(d + at, "committer ", 10)) {
            const char *gt = NULL;
            for (size_t i = end; i-- > at;)
                if (d[i] == '>') {
                    gt = d + i;
                    break;
                }
            return gt ? strtoll(gt + 1, NULL, 10) : 0;
        }
        at = end + 1;
    }
    return 0;
}

static int enqueue(struct walk *w, const git_oid *id, struct otap_err *err)
{
    if (!see(w, id))
        return 0;
    git_odb_object *obj = NULL;
    if (git_odb_read(&obj, w->odb, id) < 0)
        return vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read a commit");
    if (git_odb_object_type(obj) != GIT_OBJECT_COMMIT) {
        git_odb_object_free(obj);
        return otap_err_set(err, OTAP_EUSAGE, "HEAD names no commit");
    }
    struct queued q = {obj, committer_time(git_odb_object_data(obj), git_odb_object_size(obj)),
                       w->seq++, *id};
    /* sift up */
    size_t i = w->n;
    XPUSH(&w->heap, &w->n, &w->alloc);
    while (i > 0 && newer(&q, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = q;
    return 0;
}

static struct queued dequeue(struct walk *w)
{
    struct queued top = w->heap[0], last = w->heap[--w->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= w->n)
            break;
        if (c + 1 < w->n && newer(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!newer(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (w->n)
        w->heap[i] = last;
    return top;
}

static int walk_all_newest_first(git_repository *repo, const git_oid *tip, vcs_commit_fn fn,
                                 void *ctx, struct otap_err *err)
{
    struct walk w = {0};
    if (git_repository_odb(&w.odb, repo) < 0)
        return vcs_git_fail(err, OTAP_EEXTERNAL, "cannot open the object database");
    /* each object is read once: a cache would only hold the whole history */
    git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
    struct strbuf msg = STRBUF_INIT;
    int rc = enqueue(&w, tip, err);
    while (rc == 0 && w.n) {
        struct queued q = dequeue(&w);
        const char *d = git_odb_object_data(q.obj);
        size_t n = git_odb_object_size(q.obj);
        /* the parents, then the message after the first blank line */
        size_t at = 0, body = n;
        while (at < n && rc == 0) {
            const char *nl = memchr(d + at, '\n', n - at);
            size_t end = nl ? (size_t)(nl - d) : n;
            if (end == at) {
                body = end + 1;
                break;
            }
            git_oid parent;
            if (end - at == 7 + GIT_OID_HEXSZ && !memcmp(d + at, "parent ", 7) &&
                git_oid_fromstrn(&parent, d + at + 7, GIT_OID_HEXSZ) == 0)
                rc = enqueue(&w, &parent, err);
            at = end + 1;
        }
        if (rc == 0) {
            strbuf_reset(&msg);
            strbuf_add(&msg, d + (body < n ? body : n), body < n ? n - body : 0);
            char id[GIT_OID_HEXSZ + 1], short_id[8];
            git_oid_tostr(id, sizeof id, &q.oid);
            memcpy(short_id, id, 7);
            short_id[7] = '\0';
            rc = fn(ctx, short_id, id, msg.buf);
        }
        git_odb_object_free(q.obj);
    }
    while (w.n) {
        struct queued q = dequeue(&w);
        git_odb_object_free(q.obj);
    }
    strbuf_release(&msg);
    free(w.heap);
    free(w.seen);
    git_odb_free(w.odb);
    git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 1);
    return rc;
}

int vcs_each_commit_ordered(const char *dir, const char *from, const char *to, bool newest_first,
                            vcs_commit_fn fn, void *ctx, struct otap_err *err)
{
    git_repository *repo = NULL;
    git_revwalk *walk = NULL;
    int rc = vcs_open(dir, &repo, err);
    if (rc < 0)
        goto out;
    git_object *tip = NULL, *base = NULL;
    if (git_revparse_single(&tip, repo, to ? to : "HEAD") < 0) {
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' names no commit", to ? to : "HEAD");
        goto out;
    }
    if (from && git_revparse_single(&base, repo, from) < 0) {
        git_object_free(tip);
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' names no commit", from);
        goto out;
    }
    if (git_revwalk_new(&walk, repo) < 0 ||
        git_revwalk_sorting(walk, newest_first ? GIT_SORT_TIME /* incremental, as git log */
                                               : GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
        git_revwalk_push(walk, git_object_id(tip)) < 0 ||
        (base && git_revwalk_hide(walk, git_object_id(base)) < 0)) {
        git_object_free(tip);
        git_object_free(base);
        rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot walk the history");
        goto out;
    }
    git_object *commit = NULL;
    if (newest_first && !base && git_object_peel(&commit, tip, GIT_OBJECT_COMMIT) == 0) {
        git_oid top;
        git_oid_cpy(&top, git_object_id(commit));
        git_object_free(commit);
        git_object_free(tip);
        rc = walk_all_newest_first(repo, &top, fn, ctx, err);
        goto out;
    }
    git_object_free(tip);
    git_object_free(base);
    git_oid oid;
    while (rc == 0 && git_revwalk_next(&oid, walk) == 0) {
        git_commit *c = NULL;
        if (git_commit_lookup(&c, repo, &oid) < 0) {
            rc = vcs_git_fail(err, OTAP_EEXTERNAL, "cannot read a commit");
            break;
        }
        char id[GIT_OID_HEXSZ + 1];
        git_oid_tostr(id, sizeof id, &oid);
        char short_id[8];
        memcpy(short_id, id, 7);
        short_id[7] = '\0';
        const char *msg = git_commit_message(c);
        rc = fn(ctx, short_id, id, msg ? msg : "");
        git_commit_free(c);
    }
out:
    git_revwalk_free(walk);
    git_repository_free(repo);
    return rc;
}

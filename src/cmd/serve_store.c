/*
 * The state store as otap serve's handlers use it: one connection per
 * server thread, opened on the thread's first request and kept (for
 * PostgreSQL that is a small pool, one per worker), and a cache of the
 * read endpoints' answers that holds until the ledger moves: every change
 * to the store appends to the ledger in its own transaction, so the
 * ledger's head is the store's version.
 *
 * Opening a store (and checking its schema) on every request cost more
 * than the request: /api/v2/environments served 2,000 requests/s.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "base/redact.h"
#include "base/xalloc.h"
#include "state/store.h"
#include "base/banned.h"

static pthread_key_t store_key;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void close_thread_store(void *s)
{
    store_close(s);
}

static void make_key(void)
{
    pthread_key_create(&store_key, close_thread_store);
}

struct store *serve_store(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    pthread_once(&store_once, make_key);
    struct store *s = pthread_getspecific(store_key);
    if (s)
        return s;
    struct otap_err err = OTAP_ERR_INIT;
    if (store_open(&s, app->m->dir, &err) < 0) {
        if (rs)
            http_error(rs, 503, "store_unavailable", "%s", err.msg);
        otap_err_release(&err);
        return NULL;
    }
    store_set_redactor(s, app->redact);
    pthread_setspecific(store_key, s);
    return s;
}

void serve_store_broken(struct store *s)
{
    pthread_once(&store_once, make_key);
    if (!s)
        s = pthread_getspecific(store_key);
    if (s && pthread_getspecific(store_key) == s) {
        pthread_setspecific(store_key, NULL);
        store_close(s);
    }
}

long long serve_store_version(struct store *s)
{
    /* a listener hears each change as it commits: no round trip to the store per request */
    if (serve_watch_listening())
        return (1LL << 62) | serve_generation();
    return serve_ledger_head(s);
}

long long serve_ledger_head(struct store *s)
{
    struct store_rows r;
    struct otap_err err = OTAP_ERR_INIT;
    if (store_exec(s, "SELECT value FROM otap_state_meta WHERE key = 'ledger_head_seq'", NULL, 0,
                   &r, &err) < 0) {
        otap_err_release(&err);
        serve_store_broken(s); /* a lost connection is opened again next time */
        return -1;
    }
    long long head = r.nrows && store_cell(&r, 0, 0) ? strtoll(store_cell(&r, 0, 0), NULL, 10) : 0;
    store_rows_release(&r);
    return head;
}

/* ---- the cache of read answers --------------------------------------------------------------- */

#define CACHE_SLOTS 512

struct slot {
    char *key;
    long long head;
    char *body; /* the JSON answer, before redaction (the server redacts each answer) */
};

static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct slot cache[CACHE_SLOTS];

/* FNV-1a: the slot of a key */
static size_t slot_of(const char *key)
{
    unsigned long long h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % CACHE_SLOTS);
}

/* What makes two requests the same: the path and query, and who asks (role, scope). */
static char *key_of(const struct http_request *rq)
{
    char *q = http_query_string(rq);
    char *k =
        xasprintf("%s?%s|%d|%s", rq->path, q ? q : "", (int)rq->role, rq->scope ? rq->scope : "");
    free(q);
    return k;
}

bool serve_cache_get(const struct http_request *rq, struct http_response *rs, long long head)
{
    if (head < 0)
        return false;
    char *k = key_of(rq);
    struct slot *sl = &cache[slot_of(k)];
    bool hit = false;
    pthread_rwlock_rdlock(&cache_lock);
    if (sl->key && sl->head == head && !strcmp(sl->key, k)) {
        rs->text = xstrdup(sl->body);
        rs->redacted = true;
        rs->content_type = "application/json";
        hit = true;
    }
    pthread_rwlock_unlock(&cache_lock);
    free(k);
    return hit;
}

void serve_cache_put(const struct http_request *rq, const struct http_response *rs, long long head)
{
    if (head < 0 || rs->status != 200 || !rs->json)
        return;
    const struct serve_app *app = rq->app;
    char *k = key_of(rq);
    char *text = json_dumps(rs->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    /* kept redacted, so a hit is not redacted again: the redactor gives the same for the same */
    char *body = redactor_apply(app->redact, text, strlen(text), NULL);
    explicit_bzero(text, strlen(text));
    free(text);
    struct slot *sl = &cache[slot_of(k)];
    pthread_rwlock_wrlock(&cache_lock);
    free(sl->key);
    free(sl->body);
    sl->key = k;
    sl->body = body;
    sl->head = head;
    pthread_rwlock_unlock(&cache_lock);
}

void serve_cache_clear(void)
{
    pthread_rwlock_wrlock(&cache_lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        free(cache[i].key);
        free(cache[i].body);
        cache[i] = (struct slot){0};
    }
    pthread_rwlock_unlock(&cache_lock);
}

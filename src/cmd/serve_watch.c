/*
 * What otap serve learns of changes made elsewhere (the CLI, CI, another
 * server on the same store): one thread that watches the ledger, since
 * every change appends to it. With PostgreSQL it LISTENs for the ledger's
 * NOTIFY and hears a change as it commits; with SQLite (or while the
 * listening connection is lost) it reads the ledger's head every 200 ms.
 *
 * Each change moves the generation (the flags' cache reloads) and wakes
 * the parked event streams (/api/v2/events); every 15 s they are woken
 * anyway, for their keep-alive.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "serve.h"
#include "base/monotime.h"
#include "state/ledger.h"
#include "state/store.h"
#include "base/banned.h"

#define POLL_MS 200
#define KEEPALIVE_MS 15000

static atomic_long generation;
static atomic_bool listening;
static atomic_bool stopping;
static pthread_t thread;
static bool started;
static struct http_server *server;
static const struct serve_app *watched;

long serve_generation(void)
{
    return atomic_load(&generation);
}

bool serve_watch_listening(void)
{
    return atomic_load(&listening);
}

void serve_watch_bump(void)
{
    atomic_fetch_add(&generation, 1);
    if (server)
        http_server_wake(server);
}

/* The head by reading it: SQLite, or PostgreSQL while nobody listens. */
static long long read_head(struct store **s)
{
    struct otap_err err = OTAP_ERR_INIT;
    if (!*s && store_open(s, watched->m->dir, &err) < 0) {
        otap_err_release(&err);
        *s = NULL;
        return -1;
    }
    long long head = 0;
    char hash[SHA256_HEX_LEN + 1];
    if (ledger_head(*s, &head, hash, &err) < 0) {
        otap_err_release(&err);
        store_close(*s);
        *s = NULL;
        return -1;
    }
    return head;
}

static void *watch(void *arg)
{
    (void)arg;
    struct ledger_listener *l = NULL;
    struct store *s = NULL;
    bool pg = true; /* until a listener says the store is not PostgreSQL */
    long long head = -1, last_wake = monotime_ms(), last_try = 0;
    while (!atomic_load(&stopping)) {
        if (pg && !l && monotime_ms() - last_try >= 1000) {
            last_try = monotime_ms();
            struct otap_err err = OTAP_ERR_INIT;
            int rc = ledger_listen(watched->m->dir, &l, &err);
            otap_err_release(&err);
            if (rc == 0 && !l)
                pg = false;
            if (l) {
                atomic_store(&listening, true);
                serve_watch_bump(); /* whatever changed while nobody listened */
            }
        }
        bool changed = false;
        if (l) {
            struct pollfd pfd = {.fd = ledger_listen_fd(l), .events = POLLIN};
            if (poll(&pfd, 1, POLL_MS) > 0) {
                int n = ledger_listen_drain(l);
                changed = n > 0;
                if (n < 0) {
                    atomic_store(&listening, false);
                    ledger_listen_close(l);
                    l = NULL;
                    changed = true;
                }
            }
        } else {
            usleep(POLL_MS * 1000);
            long long now = read_head(&s);
            changed = now >= 0 && head >= 0 && now != head;
            if (now >= 0)
                head = now;
        }
        if (changed) {
            serve_watch_bump();
            last_wake = monotime_ms();
        } else if (monotime_ms() - last_wake >= KEEPALIVE_MS) {
            if (server)
                http_server_wake(server);
            last_wake = monotime_ms();
        }
    }
    atomic_store(&listening, false);
    ledger_listen_close(l);
    if (s)
        store_close(s);
    return NULL;
}

void serve_watch_start(const struct serve_app *app, struct http_server *srv)
{
    watched = app;
    server = srv;
    atomic_store(&stopping, false);
    started = pthread_create(&thread, NULL, watch, NULL) == 0;
}

void serve_watch_stop(void)
{
    atomic_store(&stopping, true);
    if (started)
        pthread_join(thread, NULL);
    started = false;
    server = NULL;
}

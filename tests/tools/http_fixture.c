/*
 * A real HTTP server whose answers are files, for testing what otap does
 * with answers a healthy service never gives: stale timestamps, the wrong
 * environment, malformed JSON, 503s, slow replies.
 *
 *   http-fixture DIR PORT
 *
 * GET /a/b answers with DIR/a_b.body (404 when missing), the status in
 * DIR/a_b.status (default 200) after DIR/a_b.delay milliseconds. A body
 * may contain @NOW@, replaced by the current UTC time in ISO-8601, and
 * @AGO:N@, the time N seconds ago. Files are read per request, so a test
 * changes an answer by rewriting a file. SIGTERM stops it.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *dir;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static void iso(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Expands @NOW@ and @AGO:N@. */
static char *expand(const char *in, size_t *len)
{
    size_t cap = strlen(in) + 256, n = 0;
    char *out = malloc(cap);
    for (const char *p = in; *p;) {
        char stamp[32];
        const char *rest = NULL;
        if (!strncmp(p, "@NOW@", 5)) {
            iso(time(NULL), stamp);
            rest = p + 5;
        } else if (!strncmp(p, "@AGO:", 5)) {
            char *end;
            long ago = strtol(p + 5, &end, 10);
            if (*end == '@') {
                iso(time(NULL) - ago, stamp);
                rest = end + 1;
            }
        }
        if (n + 40 >= cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        if (rest) {
            n += (size_t)snprintf(out + n, cap - n, "%s", stamp);
            p = rest;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    *len = n;
    return out;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_len, (void)state;
    char name[512];
    size_t k = 0;
    for (const char *p = url + 1; *p && k < sizeof(name) - 1; p++)
        name[k++] = *p == '/' ? '_' : *p;
    name[k] = '\0';
    char path[1024];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s.delay", dir, name);
    char *s = slurp(path, &len);
    if (s) {
        long ms = strtol(s, NULL, 10);
        free(s);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    unsigned status = 200;
    snprintf(path, sizeof(path), "%s/%s.status", dir, name);
    if ((s = slurp(path, &len))) {
        status = (unsigned)strtoul(s, NULL, 10);
        free(s);
    }
    snprintf(path, sizeof(path), "%s/%s.body", dir, name);
    char *body = slurp(path, &len);
    if (!body) {
        status = 404;
        body = strdup("{\"error\":\"no such fixture\"}");
    }
    char *out = expand(body, &len);
    free(body);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, out, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: http-fixture DIR PORT\n");
        return 2;
    }
    dir = argv[1];
    int port = (int)strtol(argv[2], NULL, 10);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
                                                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
                                            0, NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                                            MHD_OPTION_CONNECTION_LIMIT, 2000U, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "http-fixture: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}

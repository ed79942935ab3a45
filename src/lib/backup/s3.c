/*
 * The S3 kind of backup target (target.h): path-style requests to the
 * endpoint (ENDPOINT/BUCKET/KEY), signed by libcurl's AWS SigV4 with the
 * SHA-256 of each body, retried on a network error, 429 or 5xx. Large
 * objects go up as multipart uploads, one part in memory at a time.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup/target_impl.h"
#include "base/sha256.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define ATTEMPTS 4
#define RESP_MAX (16u << 20)

struct s3 {
    char *base;   /* ENDPOINT/BUCKET */
    char *prefix; /* "" or "a/b/" */
    char *sigv4;  /* aws:amz:REGION:s3 */
    char *userpwd;
    CURL *curl;
};

struct s3_put {
    struct strbuf part;
    char *upload_id;     /* once a multipart upload began */
    struct strbuf etags; /* <Part>...</Part> for the completion */
    int parts;
};

/* ---- requests -------------------------------------------------------------------------------- */

struct req {
    const char *method;
    char *url;
    const unsigned char *body;
    size_t body_len, sent;
    bk_chunk_fn sink; /* a 200's body goes here */
    void *sink_ctx;
    int sink_rc;
    bool sink_stopped;
    long long delivered;
    struct strbuf resp; /* anything else's body, for XML and errors */
    long status;
    char etag[160];
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct req *r = ctx;
    size_t len = size * n;
    if (r->sink && r->status == 200) {
        r->delivered += (long long)len;
        int rc = r->sink(r->sink_ctx, (const unsigned char *)data, len);
        if (rc) {
            r->sink_rc = rc < 0 ? rc : 0;
            r->sink_stopped = true;
            return 0; /* stops the transfer */
        }
        return len;
    }
    if (r->resp.len + len > RESP_MAX)
        return 0;
    strbuf_add(&r->resp, data, len);
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct req *r = ctx;
    size_t len = size * n;
    if (len > 5 && !strncmp(data, "HTTP/", 5)) {
        /* a new status line: 100 Continue, then the answer */
        const char *sp = memchr(data, ' ', len);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    } else if (len > 5 && !strncasecmp(data, "etag:", 5)) {
        size_t i = 5;
        while (i < len && (data[i] == ' ' || data[i] == '\t'))
            i++;
        size_t end = len;
        while (end > i && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' '))
            end--;
        size_t k = end - i < sizeof r->etag - 1 ? end - i : sizeof r->etag - 1;
        memcpy(r->etag, data + i, k);
        r->etag[k] = '\0';
    }
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
    struct req *r = ctx;
    size_t want = size * n, left = r->body_len - r->sent;
    size_t k = want < left ? want : left;
    memcpy(buf, r->body + r->sent, k);
    r->sent += k;
    return k;
}

/* S3's <Error><Code>..</Code><Message>..</Message></Error>, in one line, or the status. */
static char *s3_error(const struct req *r)
{
    const char *code = NULL, *msg = NULL;
    xmlDocPtr doc = r->resp.len
                        ? xmlReadMemory(r->resp.buf, (int)r->resp.len, "error.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                        : NULL;
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    char *out;
    xmlChar *c = NULL, *m = NULL;
    for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!xmlStrcmp(n->name, (const xmlChar *)"Code") && !c)
            c = xmlNodeGetContent(n);
        else if (!xmlStrcmp(n->name, (const xmlChar *)"Message") && !m)
            m = xmlNodeGetContent(n);
    }
    code = (const char *)c;
    msg = (const char *)m;
    if (code)
        out = xasprintf("HTTP %ld %s%s%s", r->status, code, msg ? ": " : "", msg ? msg : "");
    else
        out = xasprintf("HTTP %ld", r->status);
    xmlFree(c);
    xmlFree(m);
    if (doc)
        xmlFreeDoc(doc);
    return out;
}

/* One request with retries. 0 when it was answered 2xx; else an error naming what. */
static int s3_do(struct s3 *s, struct req *r, const char *what, struct otap_err *err)
{
    char hash[SHA256_HEX_LEN + 1];
    sha256_hex(r->body ? (const char *)r->body : "", r->body ? r->body_len : 0, hash);
    char *content = xasprintf("x-amz-content-sha256: %s", hash);
    int rc = 0;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (attempt)
            usleep((useconds_t)(200000u << attempt)); /* 0.4 s, 0.8 s, 1.6 s */
        strbuf_reset(&r->resp);
        r->sent = 0;
        r->status = 0;
        r->etag[0] = '\0';
        CURL *c = s->curl;
        curl_easy_reset(c);
        struct curl_slist *h = curl_slist_append(NULL, content);
        if (r->body && !strcmp(r->method, "POST"))
            h = curl_slist_append(h, "Content-Type: application/xml");
        curl_easy_setopt(c, CURLOPT_URL, r->url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
        curl_easy_setopt(c, CURLOPT_USERPWD, s->userpwd);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        if (!strcmp(r->method, "PUT")) {
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, r);
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
        } else if (!strcmp(r->method, "POST")) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(r->body ? r->body_len : 0));
        } else if (strcmp(r->method, "GET")) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
        }
        CURLcode cc = curl_easy_perform(c);
        curl_slist_free_all(h);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        r->status = status;
        if (r->sink_stopped) {
            rc = r->sink_rc;
            break;
        }
        bool retry = cc != CURLE_OK || status == 429 || status >= 500;
        /* a stream already handed on cannot start over */
        if (retry && r->delivered)
            retry = false;
        if (!retry && cc == CURLE_OK && status >= 200 && status < 300) {
            rc = 0;
            break;
        }
        if (!retry || attempt == ATTEMPTS - 1) {
            char *why = cc != CURLE_OK ? xstrdup(curl_easy_strerror(cc)) : s3_error(r);
            rc = otap_err_set(err, status == 404 ? OTAP_ENOTFOUND : OTAP_EEXTERNAL, "%s: %s%s",
                              what, why, attempt ? " (after retries)" : "");
            free(why);
            break;
        }
    }
    free(content);
    return rc;
}

/* KEY escaped for a URL, '/' kept */
static char *escape_key(CURL *c, const char *key)
{
    struct strbuf sb = STRBUF_INIT;
    const char *p = key;
    while (*p) {
        size_t n = strcspn(p, "/");
        char *e = curl_easy_escape(c, p, (int)n);
        strbuf_addstr(&sb, e);
        curl_free(e);
        p += n;
        if (*p == '/') {
            strbuf_addch(&sb, '/');
            p++;
        }
    }
    return strbuf_detach(&sb, NULL);
}

static char *object_url(struct s3 *s, const char *name, const char *query)
{
    char *key = xasprintf("%s%s", s->prefix, name);
    char *k = escape_key(s->curl, key);
    char *url = xasprintf("%s/%s%s%s", s->base, k, query ? "?" : "", query ? query : "");
    free(k);
    free(key);
    return url;
}

static void req_release(struct req *r)
{
    free(r->url);
    strbuf_release(&r->resp);
}

/* ---- XML ------------------------------------------------------------------------------------- */

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr k = n ? n->children : NULL; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE && !xmlStrcmp(k->name, (const xmlChar *)name))
            return k;
    return NULL;
}

/* The text of n's child name, copied, or NULL. */
static char *child_text(xmlNodePtr n, const char *name)
{
    xmlNodePtr k = child(n, name);
    if (!k)
        return NULL;
    xmlChar *t = xmlNodeGetContent(k);
    char *out = t ? xstrdup((const char *)t) : NULL;
    xmlFree(t);
    return out;
}

static xmlDocPtr parse(const struct strbuf *sb)
{
    return xmlReadMemory(sb->buf ? sb->buf : "", (int)sb->len, "s3.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static time_t iso_time(const char *s)
{
    struct tm tm = {0};
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return timegm(&tm);
}

/* ---- the kind -------------------------------------------------------------------------------- */

static int s3_list(struct bk_target *t, struct bk_objects *out, struct otap_err *err)
{
    struct s3 *s = t->impl;
    char *token = NULL;
    int rc = 0;
    char *pfx = curl_easy_escape(s->curl, s->prefix, 0);
    do {
        char *tok = token ? curl_easy_escape(s->curl, token, 0) : NULL;
        struct req r = {.method = "GET"};
        r.url = xasprintf("%s?list-type=2&prefix=%s%s%s", s->base, pfx,
                          tok ? "&continuation-token=" : "", tok ? tok : "");
        curl_free(tok);
        free(token);
        token = NULL;
        char *what = xasprintf("cannot list %s", t->name);
        rc = s3_do(s, &r, what, err);
        free(what);
        if (rc == 0) {
            xmlDocPtr doc = parse(&r.resp);
            xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
            if (!root) {
                rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot list %s: the answer is not XML",
                                  t->name);
            } else {
                for (xmlNodePtr n = root->children; n; n = n->next) {
                    if (n->type != XML_ELEMENT_NODE ||
                        xmlStrcmp(n->name, (const xmlChar *)"Contents"))
                        continue;
                    char *key = child_text(n, "Key"), *size = child_text(n, "Size"),
                         *mod = child_text(n, "LastModified");
                    size_t pl = strlen(s->prefix);
                    if (key && !strncmp(key, s->prefix, pl) && key[pl] && !strchr(key + pl, '/')) {
                        struct bk_object *o = bk_objects_push(out);
                        o->name = xstrdup(key + pl);
                        o->size = size ? strtoll(size, NULL, 10) : 0;
                        o->mtime = iso_time(mod);
                    }
                    free(key);
                    free(size);
                    free(mod);
                }
                char *trunc = child_text(root, "IsTruncated");
                if (trunc && !strcmp(trunc, "true"))
                    token = child_text(root, "NextContinuationToken");
                free(trunc);
            }
            if (doc)
                xmlFreeDoc(doc);
        }
        req_release(&r);
    } while (rc == 0 && token);
    free(token);
    curl_free(pfx);
    return rc;
}

static int s3_remove(struct bk_target *t, const struct bk_object *o, struct otap_err *err)
{
    struct s3 *s = t->impl;
    char *q = NULL;
    if (o->upload_id) {
        char *id = curl_easy_escape(s->curl, o->upload_id, 0);
        q = xasprintf("uploadId=%s", id);
        curl_free(id);
    }
    struct req r = {.method = "DELETE", .url = object_url(s, o->name, q)};
    free(q);
    char *what = xasprintf("cannot remove %s/%s", t->name, o->name);
    int rc = s3_do(s, &r, what, err);
    free(what);
    req_release(&r);
    /* gone already is what was wanted */
    if (rc == OTAP_ENOTFOUND) {
        otap_err_release(err);
        rc = 0;
    }
    return rc;
}

static int s3_get(struct bk_target *t, const char *name, bk_chunk_fn fn, void *ctx, long long *size,
                  struct otap_err *err)
{
    struct s3 *s = t->impl;
    struct req r = {.method = "GET", .url = object_url(s, name, NULL), .sink = fn, .sink_ctx = ctx};
    char *what = xasprintf("cannot read %s/%s", t->name, name);
    int rc = s3_do(s, &r, what, err);
    free(what);
    *size = r.delivered;
    req_release(&r);
    return rc;
}

static int put_part(struct bk_put *p, struct otap_err *err)
{
    struct s3 *s = p->t->impl;
    struct s3_put *u = p->impl;
    if (!u->upload_id) {
        struct req r = {.method = "POST", .url = object_url(s, p->name, "uploads")};
        char *what = xasprintf("cannot start the upload of %s/%s", p->t->name, p->name);
        int rc = s3_do(s, &r, what, err);
        free(what);
        if (rc == 0) {
            xmlDocPtr doc = parse(&r.resp);
            u->upload_id = doc ? child_text(xmlDocGetRootElement(doc), "UploadId") : NULL;
            if (doc)
                xmlFreeDoc(doc);
            if (!u->upload_id)
                rc = otap_err_set(err, OTAP_EEXTERNAL, "%s gave no UploadId for %s", p->t->name,
                                  p->name);
        }
        req_release(&r);
        if (rc < 0)
            return rc;
    }
    u->parts++;
    char *id = curl_easy_escape(s->curl, u->upload_id, 0);
    char *q = xasprintf("partNumber=%d&uploadId=%s", u->parts, id);
    curl_free(id);
    struct req r = {.method = "PUT",
                    .url = object_url(s, p->name, q),
                    .body = (const unsigned char *)u->part.buf,
                    .body_len = u->part.len};
    free(q);
    char *what = xasprintf("cannot upload part %d of %s/%s", u->parts, p->t->name, p->name);
    int rc = s3_do(s, &r, what, err);
    free(what);
    if (rc == 0)
        strbuf_addf(&u->etags, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", u->parts,
                    r.etag);
    req_release(&r);
    strbuf_reset(&u->part);
    return rc;
}

static int s3_put_begin(struct bk_target *t, const char *name, struct bk_put **out,
                        struct otap_err *err)
{
    (void)err;
    struct bk_put *p = xcalloc(1, sizeof(*p));
    p->t = t;
    p->name = xstrdup(name);
    p->fd = -1;
    struct s3_put *u = xcalloc(1, sizeof(*u));
    strbuf_init(&u->part, 0);
    strbuf_init(&u->etags, 0);
    p->impl = u;
    *out = p;
    return 0;
}

static int s3_put_write(struct bk_put *p, const void *data, size_t len, struct otap_err *err)
{
    struct s3_put *u = p->impl;
    const char *d = data;
    while (len) {
        size_t room = p->t->part_size - u->part.len;
        size_t k = len < room ? len : room;
        strbuf_add(&u->part, d, k);
        d += k;
        len -= k;
        if (u->part.len == p->t->part_size) {
            int rc = put_part(p, err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static void s3_put_free(struct bk_put *p)
{
    struct s3_put *u = p->impl;
    strbuf_release(&u->part);
    strbuf_release(&u->etags);
    free(u->upload_id);
    free(u);
    free(p->name);
    free(p);
}

static int s3_put_finish(struct bk_put *p, struct otap_err *err)
{
    struct s3 *s = p->t->impl;
    struct s3_put *u = p->impl;
    int rc = 0;
    if (!u->upload_id) {
        /* small: one PUT */
        struct req r = {.method = "PUT",
                        .url = object_url(s, p->name, NULL),
                        .body = (const unsigned char *)(u->part.buf ? u->part.buf : ""),
                        .body_len = u->part.len};
        char *what = xasprintf("cannot write %s/%s", p->t->name, p->name);
        rc = s3_do(s, &r, what, err);
        free(what);
        req_release(&r);
        s3_put_free(p);
        return rc;
    }
    if (u->part.len)
        rc = put_part(p, err);
    if (rc == 0) {
        char *body = xasprintf("<CompleteMultipartUpload>%s</CompleteMultipartUpload>",
                               u->etags.buf ? u->etags.buf : "");
        char *id = curl_easy_escape(s->curl, u->upload_id, 0);
        char *q = xasprintf("uploadId=%s", id);
        curl_free(id);
        struct req r = {.method = "POST",
                        .url = object_url(s, p->name, q),
                        .body = (const unsigned char *)body,
                        .body_len = strlen(body)};
        free(q);
        char *what = xasprintf("cannot complete the upload of %s/%s", p->t->name, p->name);
        rc = s3_do(s, &r, what, err);
        /* S3 may answer 200 with an <Error> inside */
        if (rc == 0 && r.resp.len && strstr(r.resp.buf, "<Error>")) {
            char *why = s3_error(&r);
            rc = otap_err_set(err, OTAP_EEXTERNAL, "%s: %s", what, why);
            free(why);
        }
        free(what);
        free(body);
        req_release(&r);
    }
    if (rc < 0) {
        bk_put_abort(p);
        return rc;
    }
    s3_put_free(p);
    return 0;
}

static void s3_put_abort(struct bk_put *p)
{
    struct s3_put *u = p->impl;
    if (u->upload_id) {
        struct bk_object o = {.name = p->name, .upload_id = u->upload_id};
        struct otap_err err = OTAP_ERR_INIT;
        s3_remove(p->t, &o, &err);
        otap_err_release(&err);
    }
    s3_put_free(p);
}

static void s3_close(struct bk_target *t)
{
    struct s3 *s = t->impl;
    if (!s)
        return;
    if (s->curl)
        curl_easy_cleanup(s->curl);
    free(s->base);
    free(s->prefix);
    free(s->sigv4);
    if (s->userpwd) {
        explicit_bzero(s->userpwd, strlen(s->userpwd));
        free(s->userpwd);
    }
    free(s);
    t->impl = NULL;
}

static const struct bk_target_ops s3_ops = {
    .list = s3_list,
    .remove = s3_remove,
    .get = s3_get,
    .put_begin = s3_put_begin,
    .put_write = s3_put_write,
    .put_finish = s3_put_finish,
    .put_abort = s3_put_abort,
    .close = s3_close,
};

int bk_s3_open(struct bk_target *t, const struct bk_target_cfg *cfg, struct otap_err *err)
{
    const char *rest = cfg->target + 5;
    size_t bl = strcspn(rest, "/");
    if (!bl)
        return otap_err_set(err, OTAP_EINVALID, "backup target '%s' names no bucket", cfg->target);
    if (!cfg->access_key || !*cfg->access_key || !cfg->secret_key || !*cfg->secret_key)
        return otap_err_set(err, OTAP_EINVALID,
                            "backup target '%s' needs an access key and a secret key", cfg->target);
    if (cfg->access_key && strchr(cfg->access_key, ':'))
        return otap_err_set(err, OTAP_EINVALID, "the access key of '%s' holds a ':'", cfg->target);
    struct s3 *s = xcalloc(1, sizeof(*s));
    t->impl = s;
    t->ops = &s3_ops;
    t->name = xstrdup(cfg->target);
    char *bucket = xstrndup(rest, bl);
    const char *pfx = rest + bl;
    while (*pfx == '/')
        pfx++;
    size_t pl = strlen(pfx);
    while (pl && pfx[pl - 1] == '/')
        pl--;
    s->prefix = pl ? xasprintf("%.*s/", (int)pl, pfx) : xstrdup("");
    const char *region = cfg->region && *cfg->region ? cfg->region : "auto";
    for (const char *c = region; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-') {
            free(bucket);
            return otap_err_set(err, OTAP_EINVALID, "region '%s' is not a region name", region);
        }
    char *endpoint = cfg->endpoint && *cfg->endpoint
                         ? xstrdup(cfg->endpoint)
                         : xasprintf("https://s3.%s.amazonaws.com",
                                     strcmp(region, "auto") ? region : "us-east-1");
    size_t el = strlen(endpoint);
    while (el && endpoint[el - 1] == '/')
        endpoint[--el] = '\0';
    if (strncmp(endpoint, "https://", 8) && strncmp(endpoint, "http://", 7)) {
        free(bucket);
        free(endpoint);
        return otap_err_set(err, OTAP_EINVALID, "the S3 endpoint of '%s' is not an http(s):// URL",
                            cfg->target);
    }
    s->base = xasprintf("%s/%s", endpoint, bucket);
    free(endpoint);
    free(bucket);
    s->sigv4 = xasprintf("aws:amz:%s:s3", region);
    s->userpwd = xasprintf("%s:%s", cfg->access_key, cfg->secret_key);
    s->curl = curl_easy_init();
    if (!s->curl)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot start libcurl");
    return 0;
}

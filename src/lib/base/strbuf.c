/*
 * Growable buffers: the one way otap builds strings of unbounded size, so
 * that no code needs a fixed char array for data it does not control.
 */
#include "base/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "base/banned.h"

char strbuf_empty[1];

void strbuf_init(struct strbuf *sb, size_t limit)
{
    sb->buf = strbuf_empty;
    sb->len = 0;
    sb->alloc = 0;
    sb->limit = limit;
}

void strbuf_release(struct strbuf *sb)
{
    size_t limit = sb->limit;
    if (sb->alloc)
        free(sb->buf);
    strbuf_init(sb, limit);
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
    if (len > sb->len || !sb->alloc)
        return;
    sb->len = len;
    sb->buf[len] = '\0';
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->alloc)
        sb->buf[0] = '\0';
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
    char *r = sb->alloc ? sb->buf : xstrdup("");
    if (len)
        *len = sb->len;
    strbuf_init(sb, sb->limit);
    return r;
}

static int grow(struct strbuf *sb, size_t extra)
{
    if (sb->limit && (extra > sb->limit || sb->len > sb->limit - extra))
        return -1;
    size_t need = sb->len + extra + 1;
    if (need <= sb->alloc)
        return 0;
    size_t n = sb->alloc ? sb->alloc : 64;
    while (n < need)
        n = n * 2;
    if (sb->alloc) {
        sb->buf = xrealloc(sb->buf, n);
    } else {
        sb->buf = xmalloc(n);
        sb->buf[0] = '\0';
    }
    sb->alloc = n;
    return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
    if (grow(sb, len) < 0)
        return -1;
    if (len)
        memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    if (sb->alloc)
        sb->buf[sb->len] = '\0';
    return 0;
}

int strbuf_addstr(struct strbuf *sb, const char *s)
{
    return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, int c)
{
    char ch = (char)c;
    return strbuf_add(sb, &ch, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0 || grow(sb, (size_t)n) < 0)
        return -1;
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
    return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = strbuf_vaddf(sb, fmt, ap);
    va_end(ap);
    return r;
}

int strbuf_read_fd(struct strbuf *sb, int fd, size_t max)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return 0;
        if ((max && sb->len + (size_t)n > max) || strbuf_add(sb, chunk, (size_t)n) < 0) {
            errno = EFBIG;
            return -1;
        }
    }
}

int strbuf_read_file(struct strbuf *sb, const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = strbuf_read_fd(sb, fd, max);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

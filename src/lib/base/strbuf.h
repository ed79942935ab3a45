/*
 * A growable byte buffer in the style of git's strbuf.
 *
 * Invariants: buf is never NULL and always NUL-terminated, also when
 * empty (it then points at a shared empty string until the first write);
 * len never counts the terminator. A non-zero limit caps len for data
 * that comes from outside: an append that would pass it fails with -1 and
 * leaves the buffer unchanged (curl's dynbuf does the same).
 */
#ifndef OTAP_STRBUF_H
#define OTAP_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *buf;
    size_t len;
    size_t alloc;
    size_t limit; /* 0: unlimited */
};

extern char strbuf_empty[];
#define STRBUF_INIT                                                                                \
    {                                                                                              \
        strbuf_empty, 0, 0, 0                                                                      \
    }

void strbuf_init(struct strbuf *sb, size_t limit);
/* Frees the memory and returns the buffer to its initial, empty state. */
void strbuf_release(struct strbuf *sb);
/* Empties the buffer but keeps its memory. */
void strbuf_reset(struct strbuf *sb);
/* Shortens the buffer to its first len bytes (len <= sb->len). */
void strbuf_setlen(struct strbuf *sb, size_t len);
/* Hands the string to the caller (who frees it) and resets the buffer. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, int c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Reads a whole file into sb, at most max bytes (0: unlimited). Returns 0,
 * or -1 with errno set (EFBIG when the file is larger than max).
 */
int strbuf_read_file(struct strbuf *sb, const char *path, size_t max);
/* The same from an open descriptor, to its end (stdin, a pipe). */
int strbuf_read_fd(struct strbuf *sb, int fd, size_t max);

#endif

/*
 * Allocation wrappers that never return NULL.
 *
 * Running out of memory is not a condition otap can report usefully, so
 * these abort with a message instead of making every caller check. Code
 * that must survive untrusted sizes caps them before allocating (see
 * strbuf's limit), it does not rely on malloc failing.
 */
#ifndef OTAP_XALLOC_H
#define OTAP_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array of nmemb elements of size each; checks the multiplication. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Frees every element of a NULL-or-counted string array and the array. */
void xfree_strv(char **v, size_t n);

/*
 * Appends one element to a growable array: *v has *n elements and room
 * for *alloc; grows it geometrically. Returns the new slot.
 */
#define XPUSH(v, n, alloc)                                                                         \
    ((*(n) >= *(alloc) ? (*(alloc) = *(alloc) ? *(alloc)*2 : 8,                                    \
                          *(v) = xreallocarray(*(v), *(alloc), sizeof(**(v))))                     \
                       : 0),                                                                       \
     &(*(v))[(*(n))++])

#endif
